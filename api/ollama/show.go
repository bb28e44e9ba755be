package ollama

import (
	"strings"

	"github.com/mlx-manager/mlx-manager/engine"
)

// ggufArch is the architecture name Ollama (GGUF) gives a Hugging Face
// model_type where the two differ: Mistral's decoders are Llama's.
var ggufArch = map[string]string{"mistral": "llama"}

// Arch is a model's architecture as Ollama names it.
func Arch(modelType string) string {
	if a, ok := ggufArch[modelType]; ok {
		return a
	}
	return modelType
}

// configKeys maps config.json fields to the model_info keys Ollama shows
// (GGUF metadata names), after the "<arch>." prefix.
var configKeys = []struct{ hf, key string }{
	{"max_position_embeddings", "context_length"},
	{"hidden_size", "embedding_length"},
	{"num_hidden_layers", "block_count"},
	{"intermediate_size", "feed_forward_length"},
	{"num_attention_heads", "attention.head_count"},
	{"num_key_value_heads", "attention.head_count_kv"},
	{"head_dim", "attention.key_length"},
	{"head_dim", "attention.value_length"},
	{"rms_norm_eps", "attention.layer_norm_rms_epsilon"},
	{"layer_norm_eps", "attention.layer_norm_epsilon"},
	{"sliding_window", "attention.sliding_window"},
	{"rope_theta", "rope.freq_base"},
	{"vocab_size", "vocab_size"},
	{"num_experts", "expert_count"},
	{"num_experts_per_tok", "expert_used_count"},
}

// ModelInfoFrom is /api/show's model_info: the general keys, the
// architecture's keys as Ollama names them, read from config.json, and the
// tokenizer's special ids. GGUF-only keys (file type, token lists) are left out.
func ModelInfoFrom(d engine.ModelDetails) map[string]any {
	arch := Arch(d.ModelType)
	mi := map[string]any{"general.architecture": arch, "general.parameter_count": d.Parameters}
	if arch == "" {
		return mi
	}
	for _, k := range configKeys {
		if v, ok := jsonNumber(d.Config[k.hf]); ok {
			mi[arch+"."+k.key] = v
		}
	}
	if d.ContextLength > 0 {
		mi[arch+".context_length"] = d.ContextLength
	}
	if _, ok := mi[arch+".attention.head_count_kv"]; !ok {
		if v, ok := mi[arch+".attention.head_count"]; ok {
			mi[arch+".attention.head_count_kv"] = v // config.json leaves it out when it equals the heads
		}
	}
	if dim, ok := mi[arch+".attention.key_length"].(float64); ok {
		mi[arch+".rope.dimension_count"] = dim
	} else if h, ok := mi[arch+".embedding_length"].(float64); ok {
		if n, ok := mi[arch+".attention.head_count"].(float64); ok && n > 0 {
			mi[arch+".rope.dimension_count"] = h / n
		}
	}
	for hf, key := range map[string]string{"bos_token_id": "tokenizer.ggml.bos_token_id", "eos_token_id": "tokenizer.ggml.eos_token_id"} {
		v := d.Config[hf]
		if list, ok := v.([]any); ok && len(list) > 0 {
			v = list[0] // several EOS ids: GGUF keeps one
		}
		if n, ok := jsonNumber(v); ok {
			mi[key] = n
		}
	}
	return mi
}

// jsonNumber is a JSON number, whole or not.
func jsonNumber(v any) (float64, bool) {
	f, ok := v.(float64)
	return f, ok
}

// Capabilities are what /api/show says a model can do, as Ollama decides it:
// from what its chat template renders.
func Capabilities(d engine.ModelDetails) []string {
	caps := []string{"completion"}
	t := d.ChatTemplate
	if strings.Contains(t, "tools") {
		caps = append(caps, "tools")
	}
	if strings.Contains(t, "<think>") || strings.Contains(t, "enable_thinking") || strings.Contains(t, "reasoning_content") {
		caps = append(caps, "thinking")
	}
	if d.Vision {
		caps = append(caps, "vision")
	}
	return caps
}

// Modelfile is /api/show's modelfile: FROM the model, its template, the
// parameters and system prompt a profile sets, and the license.
func Modelfile(id, template string, params []string, system, license string) string {
	var b strings.Builder
	b.WriteString("FROM " + id + "\n")
	if template != "" {
		b.WriteString("TEMPLATE \"\"\"" + template + "\"\"\"\n")
	}
	for _, p := range params {
		b.WriteString("PARAMETER " + p + "\n")
	}
	if system != "" {
		b.WriteString("SYSTEM \"\"\"" + system + "\"\"\"\n")
	}
	if license != "" {
		b.WriteString("LICENSE \"\"\"" + license + "\"\"\"\n")
	}
	return b.String()
}
