package v1test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/api/apitest"
)

// responseObject is the fields of a response object the tests read.
type responseObject struct {
	ID                 string  `json:"id"`
	Object             string  `json:"object"`
	Status             string  `json:"status"`
	Model              string  `json:"model"`
	Instructions       *string `json:"instructions"`
	PreviousResponseID *string `json:"previous_response_id"`
	Store              bool    `json:"store"`
	IncompleteDetails  *struct {
		Reason string `json:"reason"`
	} `json:"incomplete_details"`
	Output []struct {
		ID      string `json:"id"`
		Type    string `json:"type"`
		Status  string `json:"status"`
		Role    string `json:"role"`
		Summary []any  `json:"summary"`
		Content []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"content"`
	} `json:"output"`
	Usage struct {
		InputTokens         int `json:"input_tokens"`
		OutputTokens        int `json:"output_tokens"`
		TotalTokens         int `json:"total_tokens"`
		OutputTokensDetails struct {
			ReasoningTokens int `json:"reasoning_tokens"`
		} `json:"output_tokens_details"`
	} `json:"usage"`
}

func (r responseObject) text(kind string) string {
	var s strings.Builder
	for _, it := range r.Output {
		if it.Type == kind {
			for _, p := range it.Content {
				s.WriteString(p.Text)
			}
		}
	}
	return s.String()
}

func responseBody(extra map[string]any) map[string]any {
	b := map[string]any{"model": tinyID, "input": "Hello", "max_output_tokens": 5, "temperature": 0}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// TestResponses covers /v1/responses end to end on the tiny model: the answer,
// its stream (same text, events in OpenAI's order), storage and its owner,
// previous_response_id, store:false and DELETE.
func TestResponses(t *testing.T) {
	e := start(t, envOptions{think: true})
	var r responseObject
	e.call(t, "/v1/responses", responseBody(map[string]any{"instructions": "Be brief."}), http.StatusOK, &r)
	if !strings.HasPrefix(r.ID, "resp_") || r.Object != "response" || r.Model != tinyID || r.Instructions == nil ||
		*r.Instructions != "Be brief." || !r.Store || len(r.Output) != 1 || r.Output[0].Type != "message" ||
		r.Output[0].Role != "assistant" || r.Output[0].Content[0].Type != "output_text" {
		t.Fatalf("response %+v", r)
	}
	if r.Usage.InputTokens == 0 || r.Usage.OutputTokens == 0 || r.Usage.OutputTokens > 5 ||
		r.Usage.TotalTokens != r.Usage.InputTokens+r.Usage.OutputTokens {
		t.Errorf("usage %+v", r.Usage)
	}
	if (r.Status == "incomplete") != (r.IncompleteDetails != nil && r.IncompleteDetails.Reason == "max_output_tokens") {
		t.Errorf("status %s, incomplete_details %+v", r.Status, r.IncompleteDetails)
	}

	t.Run("stream", func(t *testing.T) {
		evs := e.stream(t, "/v1/responses", responseBody(map[string]any{"instructions": "Be brief.", "stream": true}))
		var names []string
		var delta strings.Builder
		var final responseObject
		for i, ev := range evs {
			var d struct {
				Type     string         `json:"type"`
				Seq      int            `json:"sequence_number"`
				Delta    string         `json:"delta"`
				Response responseObject `json:"response"`
			}
			ev.decode(t, &d)
			if d.Type != ev.Name || d.Seq != i {
				t.Errorf("event %d: name %s, type %s, sequence_number %d", i, ev.Name, d.Type, d.Seq)
			}
			names = append(names, ev.Name)
			if ev.Name == "response.output_text.delta" {
				delta.WriteString(d.Delta)
			}
			if ev.Name == "response.completed" || ev.Name == "response.incomplete" {
				final = d.Response
			}
		}
		want := []string{"response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"}
		if len(names) < 8 || strings.Join(names[:4], " ") != strings.Join(want, " ") {
			t.Fatalf("events %v", names)
		}
		tail := []string{"response.output_text.done", "response.content_part.done", "response.output_item.done", "response." + r.Status}
		if strings.Join(names[len(names)-4:], " ") != strings.Join(tail, " ") {
			t.Fatalf("events end with %v, want %v", names[len(names)-4:], tail)
		}
		if delta.String() != r.text("message") || final.text("message") != r.text("message") || final.Usage != r.Usage {
			t.Fatalf("streamed %q (final %q, usage %+v), answered %q (usage %+v)", delta.String(), final.text("message"), final.Usage, r.text("message"), r.Usage)
		}
		var got responseObject
		e.JSON(t, "GET", "/v1/responses/"+final.ID, e.key, nil, http.StatusOK, &got)
		if got.ID != final.ID || got.text("message") != r.text("message") {
			t.Fatalf("stored %+v", got)
		}
	})

	t.Run("previous_response_id", func(t *testing.T) {
		var next responseObject
		e.call(t, "/v1/responses", responseBody(map[string]any{"previous_response_id": r.ID, "input": "And then?"}), http.StatusOK, &next)
		// The earlier turn (without its instructions) is part of the prompt now.
		if next.PreviousResponseID == nil || *next.PreviousResponseID != r.ID || next.Usage.InputTokens <= r.Usage.OutputTokens+2 {
			t.Fatalf("continued %+v after %+v", next, r.Usage)
		}
		var got responseObject
		e.JSON(t, "GET", "/v1/responses/"+r.ID, e.key, nil, http.StatusOK, &got)
		if got.ID != r.ID || got.text("message") != r.text("message") || got.Usage != r.Usage {
			t.Fatalf("GET %+v, want %+v", got, r)
		}
	})

	t.Run("owner", func(t *testing.T) {
		_, token := e.ApprovedUser(t, e.Login(t, apitest.AdminEmail, apitest.Password), "other@example.com")
		var key struct {
			Key string `json:"key"`
		}
		e.JSON(t, "POST", "/api/auth/api-keys", token, map[string]string{"name": "other"}, http.StatusCreated, &key)
		if b := e.Error(t, "GET", "/v1/responses/"+r.ID, key.Key, nil, http.StatusNotFound); b.Type != "not_found_error" {
			t.Errorf("another user's GET: %+v", b)
		}
		b := e.Error(t, "POST", "/v1/responses", key.Key, responseBody(map[string]any{"previous_response_id": r.ID}), http.StatusNotFound)
		if b.Param == nil || *b.Param != "previous_response_id" || b.Code == nil || *b.Code != "previous_response_not_found" {
			t.Errorf("another user's previous_response_id: %+v", b)
		}
		e.Error(t, "DELETE", "/v1/responses/"+r.ID, key.Key, nil, http.StatusNotFound)
	})

	t.Run("store false and delete", func(t *testing.T) {
		var unstored responseObject
		e.call(t, "/v1/responses", responseBody(map[string]any{"store": false}), http.StatusOK, &unstored)
		if unstored.Store {
			t.Errorf("store echoed as true")
		}
		e.Error(t, "GET", "/v1/responses/"+unstored.ID, e.key, nil, http.StatusNotFound)
		var del struct {
			ID      string `json:"id"`
			Object  string `json:"object"`
			Deleted bool   `json:"deleted"`
		}
		e.JSON(t, "DELETE", "/v1/responses/"+r.ID, e.key, nil, http.StatusOK, &del)
		if del.ID != r.ID || del.Object != "response.deleted" || !del.Deleted {
			t.Errorf("delete %+v", del)
		}
		e.Error(t, "GET", "/v1/responses/"+r.ID, e.key, nil, http.StatusNotFound)
	})

	t.Run("reasoning", func(t *testing.T) {
		var rr responseObject
		e.call(t, "/v1/responses", responseBody(map[string]any{"model": thinkID, "max_output_tokens": 6}), http.StatusOK, &rr)
		if len(rr.Output) == 0 || rr.Output[0].Type != "reasoning" || rr.Output[0].Summary == nil || rr.text("reasoning") == "" ||
			rr.Usage.OutputTokensDetails.ReasoningTokens == 0 || rr.Usage.OutputTokensDetails.ReasoningTokens > rr.Usage.OutputTokens {
			t.Fatalf("reasoning answer %+v", rr)
		}
		var reasoning strings.Builder
		for _, ev := range e.stream(t, "/v1/responses", responseBody(map[string]any{"model": thinkID, "max_output_tokens": 6, "stream": true})) {
			var d struct {
				Delta string `json:"delta"`
			}
			if ev.Name == "response.reasoning_text.delta" {
				ev.decode(t, &d)
				reasoning.WriteString(d.Delta)
			}
		}
		if reasoning.String() != rr.text("reasoning") {
			t.Errorf("streamed reasoning %q, answered %q", reasoning.String(), rr.text("reasoning"))
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			name, param string
			body        map[string]any
		}{
			{"no input", "input", map[string]any{"input": nil}},
			{"web search", "tools[0].type", map[string]any{"tools": []any{map[string]any{"type": "web_search"}}}},
			// test/tiny reads text only: the engine's error names the input item.
			{"image", "input[1].content", map[string]any{"instructions": "Be brief.", "input": []any{
				map[string]any{"role": "user", "content": "Hello"},
				map[string]any{"role": "user", "content": []any{map[string]any{"type": "input_image", "image_url": "data:image/png;base64,AAAA"}}}}}},
			{"bad role", "input[0].role", map[string]any{"input": []any{map[string]any{"role": "robot", "content": "x"}}}},
			{"background", "background", map[string]any{"background": true}},
		} {
			b := e.Error(t, "POST", "/v1/responses", e.key, responseBody(tc.body), http.StatusBadRequest)
			if b.Param == nil || *b.Param != tc.param {
				t.Errorf("%s: %+v", tc.name, b)
			}
		}
	})
}
