package hub

import (
	"regexp"
	"strings"
)

// Quantization markers as they appear in repo names and tags ("Llama-3.2-1B-Instruct-4bit",
// "Qwen3-8B-MLX-bf16", tag "8-bit"). Order matters: the first match wins.
var quantPatterns = []struct {
	re     *regexp.Regexp
	format func([]string) string
}{
	{regexp.MustCompile(`(?:^|[^a-z0-9])(mxfp4|nvfp4|mxfp8)(?:$|[^a-z0-9])`), func(m []string) string { return m[1] }},
	{regexp.MustCompile(`(?:^|[^a-z0-9])([1-8])[-_ ]?bits?(?:$|[^a-z0-9])`), func(m []string) string { return m[1] + "bit" }},
	{regexp.MustCompile(`(?:^|[^a-z0-9])(?:q|int)([2-8])(?:$|[^a-z0-9])`), func(m []string) string { return m[1] + "bit" }},
	{regexp.MustCompile(`(?:^|[^a-z0-9])(bf16|bfloat16)(?:$|[^a-z0-9])`), func([]string) string { return "bf16" }},
	{regexp.MustCompile(`(?:^|[^a-z0-9])(fp16|f16|float16)(?:$|[^a-z0-9])`), func([]string) string { return "fp16" }},
	{regexp.MustCompile(`(?:^|[^a-z0-9])(fp8|f8)(?:$|[^a-z0-9])`), func([]string) string { return "fp8" }},
	{regexp.MustCompile(`(?:^|[^a-z0-9])(fp32|f32|float32)(?:$|[^a-z0-9])`), func([]string) string { return "fp32" }},
}

// InferQuantization guesses a model's weight format from its repo id, then its tags,
// then the dtypes of its safetensors parameters. It returns "" when nothing says.
func InferQuantization(id string, tags []string, dtypes map[string]int64) string {
	_, name, found := strings.Cut(id, "/")
	if !found {
		name = id
	}
	if q := matchQuant(name); q != "" {
		return q
	}
	for _, t := range tags {
		if q := matchQuant(t); q != "" {
			return q
		}
	}
	return quantFromDTypes(dtypes)
}

func matchQuant(s string) string {
	s = strings.ToLower(s)
	for _, p := range quantPatterns {
		if m := p.re.FindStringSubmatch(s); m != nil {
			return p.format(m)
		}
	}
	return ""
}

// quantFromDTypes reads the safetensors parameter counts: packed integer storage means
// quantized (bits unknown), a single float type names the precision.
func quantFromDTypes(dtypes map[string]int64) string {
	floats := map[string]bool{}
	for dt, n := range dtypes {
		if n <= 0 {
			continue
		}
		switch dt {
		case "U32", "U8", "I8", "I32", "U4", "I4":
			return "quantized"
		case "BF16", "F16", "F32", "F8_E4M3", "F8_E5M2":
			floats[dt] = true
		}
	}
	if len(floats) != 1 {
		return ""
	}
	switch {
	case floats["BF16"]:
		return "bf16"
	case floats["F16"]:
		return "fp16"
	case floats["F32"]:
		return "fp32"
	}
	return "fp8"
}
