package v1test

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

type modelEntry struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

func TestModels(t *testing.T) {
	e := start(t, envOptions{})
	if _, err := e.Store.Profiles().Create(store.Profile{Name: "coder", Model: tinyID}); err != nil {
		t.Fatal(err)
	}
	var list struct {
		Object string       `json:"object"`
		Data   []modelEntry `json:"data"`
	}
	e.JSON(t, "GET", "/v1/models", e.key, nil, http.StatusOK, &list)
	if list.Object != "list" || len(list.Data) != 2 {
		t.Fatalf("list %+v", list)
	}
	if m := list.Data[0]; m.ID != tinyID || m.Object != "model" || m.OwnedBy != "test" || m.Created == 0 {
		t.Errorf("model %+v", m)
	}
	if p := list.Data[1]; p.ID != "coder" || p.OwnedBy != "profile" {
		t.Errorf("profile %+v", p)
	}
	for _, path := range []string{"/v1/models/" + tinyID, "/v1/models/test%2Ftiny"} {
		var m modelEntry
		e.JSON(t, "GET", path, e.key, nil, http.StatusOK, &m)
		if m.ID != tinyID || m.Object != "model" {
			t.Errorf("%s: %+v", path, m)
		}
	}
	var p modelEntry
	e.JSON(t, "GET", "/v1/models/coder", e.key, nil, http.StatusOK, &p)
	if p.ID != "coder" {
		t.Errorf("profile %+v", p)
	}
	for _, path := range []string{"/v1/models/nobody/nothing", "/v1/models/..%2F..%2Fetc", "/v1/models/x"} {
		if eb := e.Error(t, "GET", path, e.key, nil, http.StatusNotFound); eb.Code == nil || *eb.Code != "model_not_found" {
			t.Errorf("%s: %+v", path, eb)
		}
	}
}

// TestProfile checks that a request naming a profile runs its model with its defaults.
func TestProfile(t *testing.T) {
	e := start(t, envOptions{})
	zero, three := 0.0, 3
	if _, err := e.Store.Profiles().Create(store.Profile{Name: "Brief", Model: tinyID, SystemPrompt: "Answer briefly.",
		Temperature: &zero, MaxTokens: &three}); err != nil {
		t.Fatal(err)
	}
	r := e.chat(t, map[string]any{"model": "brief", "temperature": nil})
	if r.Model != "brief" || r.Choices[0].FinishReason != "length" || r.Usage.CompletionTokens != 3 {
		t.Errorf("profile answer %+v", r)
	}
	direct := e.chat(t, map[string]any{"max_tokens": 3})
	if r.Usage.PromptTokens <= direct.Usage.PromptTokens {
		t.Errorf("the profile's system prompt was not added: %d prompt tokens, %d without", r.Usage.PromptTokens, direct.Usage.PromptTokens)
	}
	withSystem := e.chat(t, map[string]any{"model": "brief", "messages": []map[string]any{
		{"role": "system", "content": "x"}, {"role": "user", "content": "Hello there"}}})
	if withSystem.Usage.PromptTokens >= r.Usage.PromptTokens {
		t.Errorf("the profile's system prompt was added to a request with its own: %d tokens", withSystem.Usage.PromptTokens)
	}
	if ev := e.auditOf(t, "v1.chat.completions"); ev.Model != tinyID {
		t.Errorf("audit model %q, want the profile's model", ev.Model)
	}
}

func TestEmbeddings(t *testing.T) {
	e := start(t, envOptions{encode: true})
	type list struct {
		Object string `json:"object"`
		Model  string `json:"model"`
		Data   []struct {
			Object    string `json:"object"`
			Index     int    `json:"index"`
			Embedding any    `json:"embedding"`
		} `json:"data"`
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
			TotalTokens  int `json:"total_tokens"`
		} `json:"usage"`
	}
	var f, b list
	e.call(t, "/v1/embeddings", map[string]any{"model": embedID, "input": []string{"a cat", "a dog"}}, 200, &f)
	e.call(t, "/v1/embeddings", map[string]any{"model": embedID, "input": []string{"a cat", "a dog"}, "encoding_format": "base64"}, 200, &b)
	if f.Object != "list" || f.Model != embedID || len(f.Data) != 2 || f.Usage.PromptTokens == 0 || f.Usage.TotalTokens != f.Usage.PromptTokens {
		t.Fatalf("embeddings %+v", f)
	}
	for i := range f.Data {
		floats := f.Data[i].Embedding.([]any)
		raw, err := base64.StdEncoding.DecodeString(b.Data[i].Embedding.(string))
		if err != nil || len(raw) != 4*len(floats) || len(floats) != 64 || f.Data[i].Index != i || f.Data[i].Object != "embedding" {
			t.Fatalf("vector %d: %d floats, %d bytes, %v", i, len(floats), len(raw), err)
		}
		var norm float64
		for k, x := range floats {
			v := float32(x.(float64))
			if got := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*k:])); got != v {
				t.Fatalf("vector %d value %d: base64 %g, float %g", i, k, got, v)
			}
			norm += float64(v) * float64(v)
		}
		if math.Abs(norm-1) > 1e-4 {
			t.Errorf("vector %d norm² %g", i, norm)
		}
	}
	var small list
	e.call(t, "/v1/embeddings", map[string]any{"model": embedID, "input": "a cat", "dimensions": 8}, 200, &small)
	if v := small.Data[0].Embedding.([]any); len(v) != 8 {
		t.Errorf("dimensions 8 gave %d", len(v))
	}
	// Token ids: one input, or several.
	var toks list
	e.call(t, "/v1/embeddings", map[string]any{"model": embedID, "input": [][]int{{2, 40, 3}, {2, 41, 3}}}, 200, &toks)
	if len(toks.Data) != 2 || toks.Usage.PromptTokens != 6 {
		t.Errorf("token inputs: %+v", toks)
	}
	e.call(t, "/v1/embeddings", map[string]any{"model": embedID, "input": []int{2, 40, 3}}, 200, &toks)
	for _, body := range []map[string]any{
		{"model": embedID, "input": [][]int{{2, 99999}}},
		{"model": embedID, "input": "x", "dimensions": 65},
	} {
		e.Error(t, "POST", "/v1/embeddings", e.key, body, http.StatusBadRequest)
	}
	// Longer than max_seq_length: refused, or cut and reported when asked.
	long := strings.Repeat("cat ", 40)
	eb := e.Error(t, "POST", "/v1/embeddings", e.key, map[string]any{"model": embedID, "input": long}, http.StatusBadRequest)
	if eb.Code == nil || *eb.Code != "context_length_exceeded" {
		t.Errorf("long input: %+v", eb)
	}
	var cut struct {
		Truncated []int `json:"truncated"`
		MaxTokens int   `json:"max_tokens"`
	}
	e.call(t, "/v1/embeddings", map[string]any{"model": embedID, "input": []string{"a", long}, "truncate": true}, 200, &cut)
	if len(cut.Truncated) != 1 || cut.Truncated[0] != 1 || cut.MaxTokens != 32 {
		t.Errorf("truncation report %+v", cut)
	}
	// A chat model is no embedding model, unless the client opts in.
	eb = e.Error(t, "POST", "/v1/embeddings", e.key, map[string]any{"model": tinyID, "input": "a cat"}, http.StatusBadRequest)
	if eb.Code == nil || *eb.Code != "model_not_embedding" || eb.Type != "invalid_request_error" {
		t.Errorf("chat model: %+v", eb)
	}
	e.call(t, "/v1/embeddings", map[string]any{"model": tinyID, "input": "a cat", "allow_chat_model": true}, 200, &small)
	if ev := e.auditOf(t, "v1.embeddings"); ev.Model != tinyID || ev.PromptTokens == 0 {
		t.Errorf("audit %+v", ev)
	}
}

// TestRerank is a plain HTTP rerank call, on both paths, in the Jina/Cohere form.
func TestRerank(t *testing.T) {
	e := start(t, envOptions{encode: true})
	var out struct {
		Model   string `json:"model"`
		Results []struct {
			Index          int     `json:"index"`
			RelevanceScore float64 `json:"relevance_score"`
			Document       *struct {
				Text string `json:"text"`
			} `json:"document"`
		} `json:"results"`
		Usage struct {
			TotalTokens int `json:"total_tokens"`
		} `json:"usage"`
	}
	docs := []any{"paris is the capital of france", map[string]string{"text": "the cat sat on the mat"}, "berlin"}
	e.call(t, "/v1/rerank", map[string]any{"model": rerankID, "query": "capital of france", "documents": docs}, 200, &out)
	if out.Model != rerankID || len(out.Results) != 3 || out.Usage.TotalTokens == 0 {
		t.Fatalf("rerank %+v", out)
	}
	texts := []string{"paris is the capital of france", "the cat sat on the mat", "berlin"}
	for i, r := range out.Results {
		if r.RelevanceScore <= 0 || r.RelevanceScore >= 1 || (i > 0 && r.RelevanceScore > out.Results[i-1].RelevanceScore) {
			t.Errorf("results %+v", out.Results)
		}
		if r.Document == nil || r.Document.Text != texts[r.Index] {
			t.Errorf("result %d document %+v", i, r.Document)
		}
	}
	first := out.Results[0]
	out.Results = nil
	e.call(t, "/rerank", map[string]any{"model": rerankID, "query": "capital of france", "documents": docs, "top_n": 1, "return_documents": false}, 200, &out)
	if len(out.Results) != 1 || out.Results[0].Index != first.Index || out.Results[0].RelevanceScore != first.RelevanceScore || out.Results[0].Document != nil {
		t.Errorf("top_n 1: %+v, want %+v", out.Results, first)
	}
	// A cross-encoder has no place for an instruction: refused, not ignored.
	eb := e.Error(t, "POST", "/v1/rerank", e.key, map[string]any{"model": rerankID, "query": "q", "documents": docs, "instruction": "find capitals"}, http.StatusBadRequest)
	if eb.Param == nil || *eb.Param != "instruction" {
		t.Errorf("instruction to a cross-encoder: %+v", eb)
	}
	for _, c := range []struct {
		body map[string]any
		code string
	}{
		{map[string]any{"model": rerankID, "documents": docs}, ""},
		{map[string]any{"model": rerankID, "query": "q", "documents": []string{}}, ""},
		{map[string]any{"model": rerankID, "query": "q", "documents": docs, "top_n": 0}, ""},
		{map[string]any{"model": embedID, "query": "q", "documents": docs}, "model_not_reranker"},
		{map[string]any{"model": tinyID, "query": "q", "documents": docs}, "model_not_reranker"},
	} {
		eb := e.Error(t, "POST", "/v1/rerank", e.key, c.body, http.StatusBadRequest)
		if c.code != "" && (eb.Code == nil || *eb.Code != c.code) {
			t.Errorf("%v: %+v", c.body, eb)
		}
	}
	if ev := e.auditOf(t, "v1.rerank"); ev.Model != tinyID {
		t.Errorf("audit %+v", ev)
	}
}

// TestKeepAlive checks that keep_alive reaches the pool: -1 keeps the model
// loaded forever, 0 unloads it as soon as the request is done.
func TestKeepAlive(t *testing.T) {
	e := start(t, envOptions{})
	status := func() (ttl time.Duration, loaded bool) {
		for _, s := range e.eng.Status() {
			if s.ID == tinyID {
				return s.TTL, true
			}
		}
		return 0, false
	}
	e.chat(t, map[string]any{"max_tokens": 1, "keep_alive": -1})
	if ttl, loaded := status(); !loaded || ttl >= 0 {
		t.Errorf("keep_alive -1: loaded %v ttl %v", loaded, ttl)
	}
	// The servers page reads ttl_seconds: -1 means forever, not -1e-09 seconds.
	var overview struct {
		Servers []struct {
			Model      string  `json:"model"`
			TTLSeconds float64 `json:"ttl_seconds"`
		} `json:"servers"`
	}
	e.JSON(t, "GET", "/api/servers", e.key, nil, http.StatusOK, &overview)
	if len(overview.Servers) != 1 || overview.Servers[0].TTLSeconds != -1 {
		t.Errorf("servers after keep_alive -1: %+v", overview.Servers)
	}
	// The unload follows the request: wait for the engine to say it happened.
	events, stop := e.eng.Subscribe()
	defer stop()
	e.chat(t, map[string]any{"max_tokens": 1, "keep_alive": "0"})
	timeout := time.After(10 * time.Second)
	for unloaded := false; !unloaded; {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the engine's events ended before the model unloaded")
			}
			unloaded = ev.Topic == engine.TopicModel && ev.Model.Model == tinyID && ev.Model.Kind == engine.EventUnloaded
			if ev.Lost { // an event may have been dropped: read the state instead
				_, loaded := status()
				unloaded = unloaded || !loaded
			}
		case <-timeout:
			t.Fatal("keep_alive 0: the model is still loaded 10 s after the request")
		}
	}
}
