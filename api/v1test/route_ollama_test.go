package v1test

import (
	"bufio"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"
)

// ollamaLines posts an Ollama streaming request and decodes its NDJSON lines.
func (e *env) ollamaLines(t *testing.T, path string, body any) []map[string]any {
	t.Helper()
	resp := e.Do(t, "POST", path, e.key, body)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("POST %s: status %d, content type %q", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var out []map[string]any
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// TestRouteOllama: Ollama's chat, generate and embed reach a remote backend
// (a second daemon, through its OpenAI API) as /v1 does, streamed and not,
// and come back in Ollama's shape with the backend's answer and counts.
func TestRouteOllama(t *testing.T) {
	back := start(t, envOptions{})
	front := start(t, envOptions{})
	front.addBackend(t, "gpu", "openai", back.URL+"/v1", back.key, map[string]any{"models": []string{"served/by-gpu"}})
	front.setRules(t, rule{Pattern: "remote/*", Targets: []target{{Backend: "gpu", Model: tinyID}}})
	greedy := map[string]any{"temperature": 0, "num_predict": 5, "seed": 1}
	msgs := []map[string]any{{"role": "user", "content": "hello"}}

	// The backend's own answer, asked directly.
	var direct map[string]any
	back.JSON(t, "POST", "/api/chat", back.key, map[string]any{"model": tinyID, "messages": msgs, "stream": false, "options": greedy}, http.StatusOK, &direct)
	want := direct["message"].(map[string]any)["content"].(string)

	var routed map[string]any
	front.JSON(t, "POST", "/api/chat", front.key, map[string]any{"model": "remote/tiny", "messages": msgs, "stream": false, "options": greedy}, http.StatusOK, &routed)
	if routed["message"].(map[string]any)["content"] != want || routed["model"] != "remote/tiny" || routed["done"] != true ||
		routed["eval_count"] != direct["eval_count"] || routed["prompt_eval_count"] != direct["prompt_eval_count"] {
		t.Errorf("routed chat %v\ndirect %v", routed, direct)
	}
	if ev := front.auditOf(t, "ollama.chat"); ev.Backend != "gpu" || ev.Model != "remote/tiny" || ev.CompletionTokens != int(direct["eval_count"].(float64)) {
		t.Errorf("audit %+v", ev)
	}

	lines := front.ollamaLines(t, "/api/chat", map[string]any{"model": "remote/tiny", "messages": msgs, "options": greedy})
	var text strings.Builder
	for _, l := range lines[:len(lines)-1] {
		text.WriteString(l["message"].(map[string]any)["content"].(string))
	}
	last := lines[len(lines)-1]
	if text.String() != want || last["done"] != true || last["eval_count"] != direct["eval_count"] || last["done_reason"] != direct["done_reason"] {
		t.Errorf("routed stream %q, last %v; want %q", text.String(), last, want)
	}

	var gen map[string]any
	back.JSON(t, "POST", "/api/generate", back.key, map[string]any{"model": tinyID, "prompt": "hello", "stream": false, "options": greedy}, http.StatusOK, &gen)
	var rgen map[string]any
	front.JSON(t, "POST", "/api/generate", front.key, map[string]any{"model": "remote/tiny", "prompt": "hello", "stream": false, "options": greedy}, http.StatusOK, &rgen)
	if rgen["response"] != gen["response"] || rgen["done"] != true {
		t.Errorf("routed generate %v\ndirect %v", rgen, gen)
	}

	var emb, remb struct {
		Embeddings [][]float64 `json:"embeddings"`
	}
	back.JSON(t, "POST", "/api/embed", back.key, map[string]any{"model": tinyID, "input": []string{"a", "b c"}}, http.StatusOK, &emb)
	front.JSON(t, "POST", "/api/embed", front.key, map[string]any{"model": "remote/tiny", "input": []string{"a", "b c"}}, http.StatusOK, &remb)
	if len(remb.Embeddings) != 2 || len(remb.Embeddings[1]) != len(emb.Embeddings[1]) {
		t.Fatalf("routed embed %d vectors", len(remb.Embeddings))
	}
	for i := range emb.Embeddings {
		for j := range emb.Embeddings[i] {
			if math.Abs(emb.Embeddings[i][j]-remb.Embeddings[i][j]) > 1e-6 {
				t.Fatalf("embedding %d[%d]: routed %v, direct %v", i, j, remb.Embeddings[i][j], emb.Embeddings[i][j])
			}
		}
	}

	// The backend's refusal reaches the client in Ollama's error shape, naming the backend.
	resp := front.Do(t, "POST", "/api/chat", front.key, map[string]any{"model": "remote/tiny", "messages": msgs, "stream": false,
		"options": map[string]any{"temperature": 7}})
	var e map[string]any
	json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if msg, _ := e["error"].(string); resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(msg, "backend gpu: 400 ") {
		t.Errorf("routed refusal: %d %v", resp.StatusCode, e)
	}
	// /api/tags lists the backend's models after the local ones, as /v1/models does.
	var tags struct {
		Models []struct {
			Name    string `json:"name"`
			Details struct {
				Format string `json:"format"`
				Family string `json:"family"`
			} `json:"details"`
		} `json:"models"`
	}
	front.JSON(t, "GET", "/api/tags", front.key, nil, http.StatusOK, &tags)
	if n := len(tags.Models); n < 2 || tags.Models[n-1].Name != "served/by-gpu" || tags.Models[n-1].Details.Family != "gpu" {
		t.Errorf("/api/tags %+v", tags.Models)
	}
	// A model of this machine stays here.
	front.JSON(t, "POST", "/api/chat", front.key, map[string]any{"model": tinyID, "messages": msgs, "stream": false, "options": greedy}, http.StatusOK, nil)
	if ev := front.auditOf(t, "ollama.chat"); ev.Backend != "" {
		t.Errorf("a local model went to a backend: %+v", ev)
	}
}
