package ollamatest

import (
	"math"
	"net/http"
	"strings"
	"testing"
	"time"
)

// greedy makes the tiny model's answers reproducible.
var greedy = map[string]any{"temperature": 0, "num_predict": 8, "seed": 1}

func chatBody(model string, stream bool) map[string]any {
	return map[string]any{"model": model, "stream": stream, "options": greedy,
		"messages": []map[string]any{{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there"}}}
}

func TestChatStreamMatchesNonStreamed(t *testing.T) {
	e := start(t)
	var whole map[string]any
	e.call(t, "POST", "/api/chat", chatBody(tinyID, false), http.StatusOK, &whole)
	if whole["done"] != true || whole["done_reason"] == nil || whole["model"] != tinyID {
		t.Fatalf("non-streamed answer %v", whole)
	}
	msg := whole["message"].(map[string]any)
	if msg["role"] != "assistant" {
		t.Errorf("role %v", msg["role"])
	}
	evalCount := whole["eval_count"].(float64)
	if evalCount < 1 || evalCount > 8 {
		t.Errorf("eval_count %v, want 1..8 (num_predict 8)", evalCount)
	}
	if whole["prompt_eval_count"].(float64) < 5 {
		t.Errorf("prompt_eval_count %v: the templated prompt has more tokens", whole["prompt_eval_count"])
	}
	for _, f := range []string{"total_duration", "prompt_eval_duration", "eval_duration"} {
		if whole[f].(float64) <= 0 {
			t.Errorf("%s = %v, want > 0", f, whole[f])
		}
	}
	// The first request loaded the model: that time is load_duration, inside total_duration.
	if ld := whole["load_duration"].(float64); ld <= 0 || ld > whole["total_duration"].(float64) {
		t.Errorf("load_duration %v (total %v)", ld, whole["total_duration"])
	}

	lines := e.lines(t, "/api/chat", chatBody(tinyID, true))
	var text strings.Builder
	for i, l := range lines[:len(lines)-1] {
		if l["done"] != false {
			t.Fatalf("line %d before the last is done: %v", i, l)
		}
		text.WriteString(l["message"].(map[string]any)["content"].(string))
	}
	last := lines[len(lines)-1]
	if last["done"] != true || last["eval_count"] != whole["eval_count"] || last["prompt_eval_count"] != whole["prompt_eval_count"] {
		t.Fatalf("done line %v, non-streamed %v", last, whole)
	}
	if last["load_duration"].(float64) != 0 {
		t.Errorf("the model was loaded: load_duration %v, want 0", last["load_duration"])
	}
	if text.String() != msg["content"] {
		t.Errorf("streamed %q, non-streamed %q (greedy: must match)", text.String(), msg["content"])
	}
}

func TestGenerate(t *testing.T) {
	e := start(t)
	body := map[string]any{"model": tinyID, "prompt": "Why is the sky blue?", "system": "be brief", "stream": false, "options": greedy}
	var whole map[string]any
	e.call(t, "POST", "/api/generate", body, http.StatusOK, &whole)
	if whole["done"] != true || whole["eval_count"].(float64) < 1 {
		t.Fatalf("answer %v", whole)
	}
	body["stream"] = true
	lines := e.lines(t, "/api/generate", body)
	var text strings.Builder
	for _, l := range lines[:len(lines)-1] {
		text.WriteString(l["response"].(string))
	}
	if text.String() != whole["response"] {
		t.Errorf("streamed %q, non-streamed %q", text.String(), whole["response"])
	}
	if last := lines[len(lines)-1]; last["done"] != true || last["eval_count"] != whole["eval_count"] {
		t.Errorf("done line %v", last)
	}

	// raw skips the template: the prompt is all the model sees.
	var raw map[string]any
	e.call(t, "POST", "/api/generate", map[string]any{"model": tinyID, "prompt": "Once upon", "raw": true, "stream": false, "options": greedy},
		http.StatusOK, &raw)
	if raw["prompt_eval_count"].(float64) >= whole["prompt_eval_count"].(float64) {
		t.Errorf("raw prompt counted %v tokens, templated %v", raw["prompt_eval_count"], whole["prompt_eval_count"])
	}
}

func TestFormatJSON(t *testing.T) {
	e := start(t)
	schema := map[string]any{"type": "object", "properties": map[string]any{"age": map[string]any{"type": "integer"}}, "required": []string{"age"}}
	var out struct {
		Message struct {
			Content string `json:"content"`
		} `json:"message"`
	}
	e.call(t, "POST", "/api/chat", map[string]any{"model": tinyID, "stream": false, "format": schema,
		"options":  map[string]any{"temperature": 0, "num_predict": 64},
		"messages": []map[string]any{{"role": "user", "content": "age?"}}}, http.StatusOK, &out)
	if !strings.HasPrefix(out.Message.Content, "{") || !strings.Contains(out.Message.Content, `"age"`) {
		t.Errorf("content %q does not follow the schema", out.Message.Content)
	}
}

func TestLoadAndUnloadWithoutInput(t *testing.T) {
	e := start(t)
	var loaded map[string]any
	e.call(t, "POST", "/api/generate", map[string]any{"model": tinyID}, http.StatusOK, &loaded)
	if loaded["done_reason"] != "load" {
		t.Fatalf("answer %v", loaded)
	}
	var ps struct {
		Models []map[string]any `json:"models"`
	}
	e.call(t, "GET", "/api/ps", nil, http.StatusOK, &ps)
	if len(ps.Models) != 1 || ps.Models[0]["name"] != tinyID || ps.Models[0]["size"].(float64) <= 0 {
		t.Fatalf("ps %v", ps)
	}
	var unloaded map[string]any
	e.call(t, "POST", "/api/chat", map[string]any{"model": tinyID, "messages": []any{}, "keep_alive": 0}, http.StatusOK, &unloaded)
	if unloaded["done_reason"] != "unload" {
		t.Fatalf("answer %v", unloaded)
	}
	e.call(t, "GET", "/api/ps", nil, http.StatusOK, &ps)
	if len(ps.Models) != 0 {
		t.Fatalf("ps after unload %v", ps)
	}
}

func TestKeepAliveSetsTTL(t *testing.T) {
	e := start(t)
	e.call(t, "POST", "/api/generate", map[string]any{"model": tinyID, "prompt": "hi", "stream": false, "keep_alive": "-1",
		"options": greedy}, http.StatusOK, nil)
	st := e.eng.Status()
	if len(st) != 1 || st[0].TTL >= 0 {
		t.Fatalf("keep_alive -1: status %+v, want a negative (forever) TTL", st)
	}
	e.call(t, "POST", "/api/generate", map[string]any{"model": tinyID, "prompt": "hi", "stream": false, "keep_alive": "90s",
		"options": greedy}, http.StatusOK, nil)
	if st := e.eng.Status(); st[0].TTL.Seconds() != 90 {
		t.Fatalf("keep_alive 90s: TTL %v", st[0].TTL)
	}
}

func TestTagsShowVersion(t *testing.T) {
	e := start(t)
	var v map[string]any
	e.call(t, "GET", "/api/version", nil, http.StatusOK, &v)
	if v["version"] != "1.2.3" {
		t.Errorf("version %v", v)
	}
	var tags struct {
		Models []struct {
			Name    string `json:"name"`
			Size    int64  `json:"size"`
			Digest  string `json:"digest"`
			Details struct {
				Format string `json:"format"`
				Family string `json:"family"`
			} `json:"details"`
		} `json:"models"`
	}
	e.call(t, "GET", "/api/tags", nil, http.StatusOK, &tags)
	if len(tags.Models) != 2 {
		t.Fatalf("tags %+v", tags)
	}
	for _, m := range tags.Models {
		if m.Size <= 0 || len(m.Digest) != 64 || m.Details.Format != "safetensors" || m.Details.Family == "" {
			t.Errorf("model %+v", m)
		}
	}
	var show map[string]any
	e.call(t, "POST", "/api/show", map[string]any{"model": tinyID}, http.StatusOK, &show)
	info := show["model_info"].(map[string]any)
	if info["general.architecture"] == "" || !strings.HasPrefix(show["modelfile"].(string), "FROM "+tinyID) {
		t.Errorf("show %v", show)
	}
	// The architecture's keys, as Ollama names them, from the tiny model's
	// config.json (modeltest's defaults).
	for k, want := range map[string]float64{"llama.block_count": 2, "llama.embedding_length": 64, "llama.feed_forward_length": 128,
		"llama.attention.head_count": 4, "llama.attention.head_count_kv": 2, "llama.context_length": 1024,
		"llama.rope.dimension_count": 16, "llama.vocab_size": 512, "llama.rope.freq_base": 10000} {
		if info[k] != want {
			t.Errorf("model_info %s = %v, want %v", k, info[k], want)
		}
	}
	tmpl, _ := show["template"].(string)
	if !strings.Contains(tmpl, "<|im_start|>") || !strings.Contains(show["modelfile"].(string), "TEMPLATE \"\"\""+tmpl+"\"\"\"") {
		t.Errorf("template %q, modelfile %q", tmpl, show["modelfile"])
	}
	if caps, _ := show["capabilities"].([]any); len(caps) == 0 || caps[0] != "completion" {
		t.Errorf("capabilities %v", show["capabilities"])
	}
}

func TestNameResolution(t *testing.T) {
	e := start(t)
	cases := []struct {
		name   string
		status int
		want   string
	}{
		{tinyID, http.StatusOK, tinyID},
		{tinyID + ":latest", http.StatusOK, tinyID},
		{"tiny-chat:0.5b", http.StatusOK, tinyID},         // the exact name wins over the -Instruct sibling it prefixes
		{"tiny:chat", http.StatusBadRequest, "ambiguous"}, // tiny-chat-0.5b and tiny-chat-0.5b-instruct
		{"tiny-chat:0.5b-instruct", http.StatusOK, otherID},
		{"test/tiny-chat-0.5b", http.StatusOK, tinyID},
		{"tiny-chat:7b", http.StatusNotFound, "not found"},
	}
	for _, c := range cases {
		body := map[string]any{"model": c.name}
		if c.status != http.StatusOK {
			if msg := e.errorOf(t, "POST", "/api/show", body, c.status); !strings.Contains(msg, c.want) {
				t.Errorf("%s: error %q, want it to say %q", c.name, msg, c.want)
			}
			continue
		}
		var show struct {
			Modelfile string `json:"modelfile"`
		}
		e.call(t, "POST", "/api/show", body, http.StatusOK, &show)
		if !strings.HasPrefix(show.Modelfile, "FROM "+c.want+"\n") {
			t.Errorf("%s resolved to %q, want %s", c.name, show.Modelfile, c.want)
		}
	}
}

func TestCopyMakesAProfile(t *testing.T) {
	e := start(t)
	e.call(t, "POST", "/api/copy", map[string]any{"source": tinyID, "destination": "my-tiny"}, http.StatusOK, nil)
	var out map[string]any
	e.call(t, "POST", "/api/chat", map[string]any{"model": "my-tiny", "stream": false, "options": greedy,
		"messages": []map[string]any{{"role": "user", "content": "hi"}}}, http.StatusOK, &out)
	if out["model"] != "my-tiny" || out["done"] != true {
		t.Errorf("chat through the copy: %v", out)
	}
	var tags struct {
		Models []map[string]any `json:"models"`
	}
	e.call(t, "GET", "/api/tags", nil, http.StatusOK, &tags)
	if len(tags.Models) != 3 || tags.Models[2]["name"] != "my-tiny" || tags.Models[2]["details"].(map[string]any)["parent_model"] != tinyID {
		t.Errorf("tags %v", tags.Models)
	}
	if msg := e.errorOf(t, "POST", "/api/copy", map[string]any{"source": tinyID, "destination": "my-tiny"}, http.StatusConflict); !strings.Contains(msg, "exists") {
		t.Errorf("second copy: %q", msg)
	}
}

func TestDelete(t *testing.T) {
	e := start(t)
	e.call(t, "DELETE", "/api/delete", map[string]any{"model": otherID}, http.StatusOK, nil)
	var tags struct {
		Models []map[string]any `json:"models"`
	}
	e.call(t, "GET", "/api/tags", nil, http.StatusOK, &tags)
	if len(tags.Models) != 1 || tags.Models[0]["name"] != tinyID {
		t.Fatalf("tags after delete %v", tags.Models)
	}
	if msg := e.errorOf(t, "DELETE", "/api/delete", map[string]any{"model": otherID}, http.StatusNotFound); !strings.Contains(msg, "not found") {
		t.Errorf("second delete: %q", msg)
	}
}

func TestErrors(t *testing.T) {
	e := start(t)
	msg := func(m string) []map[string]any { return []map[string]any{{"role": "user", "content": m}} }
	cases := []struct {
		path   string
		body   map[string]any
		status int
		want   string
	}{
		{"/api/chat", map[string]any{"model": "nope/nothing", "messages": msg("hi")}, http.StatusNotFound, `model "nope/nothing" not found`},
		{"/api/chat", map[string]any{"messages": msg("hi")}, http.StatusBadRequest, "model is required"},
		{"/api/chat", map[string]any{"model": tinyID, "messages": []map[string]any{{"role": "user", "content": "what is this", "images": []string{"aGk="}}}},
			http.StatusBadRequest, "does not accept images"},
		{"/api/generate", map[string]any{"model": tinyID, "prompt": "hi", "images": []string{"aGk="}}, http.StatusBadRequest, "does not accept images"},
		{"/api/generate", map[string]any{"model": tinyID, "prompt": "hi", "raw": true, "images": []string{"aGk="}}, http.StatusBadRequest, "images"},
		{"/api/chat", map[string]any{"model": tinyID, "messages": msg("hi"), "options": map[string]any{"temprature": 1}}, http.StatusBadRequest, "options.temprature: unknown option"},
		{"/api/chat", map[string]any{"model": tinyID, "messages": msg("hi"), "options": map[string]any{"mirostat": 2}}, http.StatusBadRequest, "options.mirostat: is not supported"},
		{"/api/chat", map[string]any{"model": tinyID, "messages": msg("hi"), "options": map[string]any{"temperature": 3}}, http.StatusBadRequest, "options.temperature: must be in [0, 2]"},
		{"/api/chat", map[string]any{"model": tinyID, "messages": msg("hi"), "format": "yaml"}, http.StatusBadRequest, "format"},
		{"/api/chat", map[string]any{"model": tinyID, "messages": msg("hi"), "think": "max"}, http.StatusBadRequest, "think"},
		{"/api/chat", map[string]any{"model": tinyID, "messages": msg("hi"), "keep_alive": "soon"}, http.StatusBadRequest, "keep_alive"},
		{"/api/chat", map[string]any{"model": tinyID, "messages": msg("hi"), "stream": false, "options": map[string]any{"num_ctx": 8}},
			http.StatusBadRequest, "context length"},
		{"/api/embed", map[string]any{"model": tinyID}, http.StatusBadRequest, "input: is required"},
	}
	for _, c := range cases {
		if got := e.errorOf(t, "POST", c.path, c.body, c.status); !strings.Contains(got, c.want) {
			t.Errorf("%s %v: error %q, want it to contain %q", c.path, c.body, got, c.want)
		}
	}
	// No credential: 401 in Ollama's shape.
	resp := e.Do(t, "GET", "/api/tags", "", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no key: status %d", resp.StatusCode)
	}
}

func TestEmbed(t *testing.T) {
	e := start(t)
	e.installEmbedder(t)
	var out struct {
		Model           string      `json:"model"`
		Embeddings      [][]float64 `json:"embeddings"`
		PromptEvalCount int         `json:"prompt_eval_count"`
	}
	e.call(t, "POST", "/api/embed", map[string]any{"model": embedID, "input": []string{"why is the sky blue?", "hello"}}, http.StatusOK, &out)
	if len(out.Embeddings) != 2 || len(out.Embeddings[0]) == 0 || out.PromptEvalCount < 2 {
		t.Fatalf("embed %+v", out)
	}
	var one struct {
		Embeddings [][]float64 `json:"embeddings"`
	}
	e.call(t, "POST", "/api/embed", map[string]any{"model": embedID, "input": "hello", "keep_alive": "2m"}, http.StatusOK, &one)
	if st := e.eng.Status(); len(st) != 1 || st[0].TTL != 2*time.Minute {
		t.Errorf("keep_alive 2m on embed: status %+v", st)
	}
	// A list runs as one batch, whose products may round differently.
	if len(one.Embeddings) != 1 || math.Abs(one.Embeddings[0][0]-out.Embeddings[1][0]) > 1e-5 {
		t.Errorf("a string input must embed as the same vector as in a list")
	}
	// Ollama truncates to the model's length unless truncate is false.
	long := strings.Repeat("cat ", 30)
	e.call(t, "POST", "/api/embed", map[string]any{"model": embedID, "input": long}, http.StatusOK, &out)
	if out.PromptEvalCount != 16 {
		t.Errorf("truncated input counted %d tokens, want 16", out.PromptEvalCount)
	}
	if msg := e.errorOf(t, "POST", "/api/embed", map[string]any{"model": embedID, "input": long, "truncate": false}, http.StatusBadRequest); !strings.Contains(msg, "context") {
		t.Errorf("truncate false: %q", msg)
	}
	var legacy struct {
		Embedding []float64 `json:"embedding"`
	}
	e.call(t, "POST", "/api/embeddings", map[string]any{"model": embedID, "prompt": "hello"}, http.StatusOK, &legacy)
	if len(legacy.Embedding) != 64 || legacy.Embedding[0] != one.Embeddings[0][0] {
		t.Errorf("/api/embeddings: %d values", len(legacy.Embedding))
	}
	// A chat model is no embedding model.
	if msg := e.errorOf(t, "POST", "/api/embed", map[string]any{"model": tinyID, "input": "hello"}, http.StatusBadRequest); !strings.Contains(msg, "not an embedding model") {
		t.Errorf("chat model: %q", msg)
	}
}

func TestPull(t *testing.T) {
	e := start(t)
	lines := e.lines(t, "/api/pull", map[string]any{"model": hubRepo})
	if lines[0]["status"] != "pulling manifest" || lines[len(lines)-1]["status"] != "success" {
		t.Fatalf("pull lines %v", lines)
	}
	var sawBytes bool
	for _, l := range lines[1 : len(lines)-1] {
		if l["digest"] == hubRepo && l["total"].(float64) > 0 {
			sawBytes = true
		}
	}
	if !sawBytes {
		t.Errorf("no progress line with the sizes: %v", lines)
	}
	// The pulled model answers at once.
	var out map[string]any
	e.call(t, "POST", "/api/generate", map[string]any{"model": hubRepo + ":latest", "prompt": "hi", "stream": false, "options": greedy}, http.StatusOK, &out)
	if out["done"] != true {
		t.Errorf("generate with the pulled model: %v", out)
	}
	// Pulling what is there ends at once, and stream:false gives one object.
	var again map[string]any
	e.call(t, "POST", "/api/pull", map[string]any{"model": hubRepo, "stream": false}, http.StatusOK, &again)
	if again["status"] != "success" {
		t.Errorf("second pull %v", again)
	}
	if msg := e.errorOf(t, "POST", "/api/pull", map[string]any{"model": "llama3.2"}, http.StatusBadRequest); !strings.Contains(msg, "Hugging Face repo id") {
		t.Errorf("library name: %q", msg)
	}
	if msg := e.errorOf(t, "POST", "/api/pull", map[string]any{"model": "hub/missing"}, http.StatusNotFound); msg == "" {
		t.Errorf("missing repo: %q", msg)
	}
}
