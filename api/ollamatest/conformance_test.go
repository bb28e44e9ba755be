package ollamatest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"strings"
	"testing"
)

// docExample is one example of Ollama's API documentation (testdata/api_examples.json).
type docExample struct {
	Name    string           `json:"name"`
	Method  string           `json:"method"`
	Path    string           `json:"path"`
	Request map[string]any   `json:"request"`
	Resp    map[string]any   `json:"response"`
	Stream  []map[string]any `json:"stream"`
	Status  int              `json:"status"`
	Refused string           `json:"refused"`
}

// notReturned are documented fields this server leaves out on purpose, and why.
var notReturned = map[string]string{
	"context": "deprecated in Ollama; conversations go to /api/chat, and raw mode has none either",
	"images":  "documented as null: answers are text (images go in, with user messages)",
}

// modelInfoKept are the model_info keys of /api/show read from a safetensors
// config; the documentation's others are GGUF metadata.
var modelInfoKept = map[string]bool{"general.architecture": true, "general.parameter_count": true,
	"llama.attention.head_count": true, "llama.attention.head_count_kv": true, "llama.attention.layer_norm_rms_epsilon": true,
	"llama.block_count": true, "llama.context_length": true, "llama.embedding_length": true, "llama.feed_forward_length": true,
	"llama.rope.dimension_count": true, "llama.rope.freq_base": true, "llama.vocab_size": true,
	"tokenizer.ggml.bos_token_id": true, "tokenizer.ggml.eos_token_id": true}

// TestDocumentationExamples replays the examples of docs/api.md against the
// server, with the test's models, and checks that every documented field of
// every answer is there with the documented JSON type.
func TestDocumentationExamples(t *testing.T) {
	raw, err := os.ReadFile("testdata/api_examples.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Examples []docExample `json:"examples"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	e := start(t)
	e.installEmbedder(t)
	for _, ex := range doc.Examples {
		t.Run(ex.Name, func(t *testing.T) {
			req := localize(ex)
			resp := e.Do(t, ex.Method, ex.Path, e.key, req)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			want := ex.Status
			if want == 0 {
				want = http.StatusOK
			}
			if resp.StatusCode != want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, want, body)
			}
			if ex.Refused != "" {
				var msg map[string]any
				if err := json.Unmarshal(body, &msg); err != nil || len(msg) != 1 || msg["error"] == "" {
					t.Errorf("refusal %s is not Ollama's {\"error\": \"...\"}", body)
				}
				return
			}
			switch {
			case ex.Stream != nil:
				checkStream(t, ex, body)
			case ex.Resp != nil:
				var got map[string]any
				if err := json.Unmarshal(body, &got); err != nil {
					t.Fatalf("answer %q: %v", body, err)
				}
				checkShape(t, ex.Name, "", ex.Resp, got)
			}
		})
	}
}

// localize points an example's request at the test's models and keeps
// generations short (num_predict 4) so the replay stays cheap.
func localize(ex docExample) map[string]any {
	if ex.Request == nil {
		return nil
	}
	req := map[string]any{}
	for k, v := range ex.Request {
		req[k] = v
	}
	switch ex.Path {
	case "/api/pull":
		req["model"] = hubRepo
	case "/api/delete":
		req["model"] = otherID
	case "/api/copy":
		req["source"] = tinyID
	case "/api/embed", "/api/embeddings":
		req["model"] = embedID // a chat model is refused
	default:
		req["model"] = tinyID
	}
	if ex.Path == "/api/chat" || ex.Path == "/api/generate" {
		opts, _ := req["options"].(map[string]any)
		if opts == nil {
			opts = map[string]any{}
		}
		if _, ok := opts["num_predict"]; !ok {
			opts["num_predict"] = 4
		}
		req["options"] = opts
	}
	return req
}

func checkStream(t *testing.T, ex docExample, body []byte) {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, m)
	}
	if len(lines) == 0 {
		t.Fatal("empty stream")
	}
	first, last := ex.Stream[0], ex.Stream[len(ex.Stream)-1]
	checkShape(t, ex.Name+" last line", "", last, lines[len(lines)-1])
	if ex.Path == "/api/pull" {
		checkShape(t, ex.Name+" first line", "", first, lines[0])
		progress := 0
		for _, l := range lines[1 : len(lines)-1] {
			if _, ok := l["digest"]; ok {
				progress++
				want := ex.Stream[1]
				if _, ok := l["completed"]; !ok {
					// "Until any of the download is completed, the completed key may not be included."
					want = maps.Clone(want)
					delete(want, "completed")
				}
				checkShape(t, ex.Name+" progress line", "", want, l)
			}
		}
		if progress == 0 {
			t.Errorf("no progress line in %v", lines)
		}
		return
	}
	for i, l := range lines[:len(lines)-1] {
		checkShape(t, fmt.Sprintf("%s line %d", ex.Name, i), "", first, l)
	}
}

// checkShape reports every field of want missing from got or of another JSON
// type. A documented null says nothing of the type and may be left out.
func checkShape(t *testing.T, name, path string, want, got any) {
	t.Helper()
	if want == nil {
		return
	}
	if kind(want) != kind(got) {
		t.Errorf("%s: %s is %s %v, documented as %s", name, orRoot(path), kind(got), got, kind(want))
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		for k, wv := range w {
			p := strings.TrimPrefix(path+"."+k, ".")
			if _, skip := notReturned[k]; skip {
				continue
			}
			if path == "model_info" && !modelInfoKept[k] {
				continue
			}
			if path == "message" && k == "tool_calls" {
				continue // a random tiny model calls no tools; api/ollama's TestToolCallShape checks the field
			}
			gv, ok := g[k]
			if !ok {
				if wv != nil {
					t.Errorf("%s: documented field %s is missing", name, p)
				}
				continue
			}
			checkShape(t, name, p, wv, gv)
		}
	case []any:
		g := got.([]any)
		if len(w) > 0 && len(g) > 0 {
			checkShape(t, name, path+"[0]", w[0], g[0])
		}
	}
}

func orRoot(path string) string {
	if path == "" {
		return "the answer"
	}
	return path
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
