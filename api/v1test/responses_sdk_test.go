package v1test

import (
	"strings"
	"testing"
)

// nodeResponses checks the responses scenario of run.mjs: the official openai
// package's responses.create, responses.stream, retrieve and delete.
func nodeResponses(t *testing.T, res nodeResult) {
	var r struct {
		ID, Object, Status string
		OutputText         string `json:"output_text"`
		Usage              struct {
			InputTokens  int `json:"input_tokens"`
			OutputTokens int `json:"output_tokens"`
		}
		Types        []string
		Events       []string
		Deltas       string
		StreamedText string `json:"streamed_text"`
		Next         struct {
			Previous    string `json:"previous"`
			InputTokens int    `json:"input_tokens"`
		}
		Retrieved struct {
			ID         string
			OutputText string `json:"output_text"`
		}
		Deleted struct {
			ID      string
			Deleted bool
		}
		Gone sdkError
	}
	if !res.get(t, "responses", &r) {
		return
	}
	if !strings.HasPrefix(r.ID, "resp_") || r.Object != "response" || r.OutputText == "" || len(r.Types) != 1 || r.Types[0] != "message" ||
		r.Usage.OutputTokens == 0 || r.Usage.OutputTokens > 5 {
		t.Errorf("create %+v", r)
	}
	if r.Deltas != r.OutputText || r.StreamedText != r.OutputText ||
		len(r.Events) < 4 || r.Events[0] != "response.created" || r.Events[len(r.Events)-1] != "response."+r.Status {
		t.Errorf("stream: text %q/%q, events %v; answer %q (%s)", r.Deltas, r.StreamedText, r.Events, r.OutputText, r.Status)
	}
	if r.Next.Previous != r.ID || r.Next.InputTokens <= r.Usage.InputTokens {
		t.Errorf("previous_response_id: %+v after %+v", r.Next, r.Usage)
	}
	if r.Retrieved.ID != r.ID || r.Retrieved.OutputText != r.OutputText || r.Gone.Status != 404 || r.Gone.Name != "NotFoundError" {
		t.Errorf("retrieve %+v, after delete %+v", r.Retrieved, r.Gone)
	}
}

// nodeResponsesTools checks a function tool round trip through responses.create
// and responses.stream.
func nodeResponsesTools(t *testing.T, res nodeResult) {
	type call struct {
		ID, Name, Arguments, Status string
		CallID                      string `json:"call_id"`
	}
	var r struct {
		Status    string
		Calls     []call
		Streamed  []call
		ArgDeltas int `json:"arg_deltas"`
		RoundTrip struct {
			Status           string
			Types            []string
			InputTokens      int `json:"input_tokens"`
			FirstInputTokens int `json:"first_input_tokens"`
		} `json:"round_trip"`
	}
	if !res.get(t, "responsesTools", &r) {
		return
	}
	if r.Status != "completed" || len(r.Calls) != 1 || r.Calls[0].Name != "get_weather" || !strings.HasPrefix(r.Calls[0].ID, "fc_") ||
		r.Calls[0].CallID == "" || r.Calls[0].Status != "completed" || checkArgs("get_weather", []byte(r.Calls[0].Arguments)) != nil {
		t.Fatalf("call %+v", r)
	}
	if len(r.Streamed) != 1 || r.Streamed[0].Arguments != r.Calls[0].Arguments || r.ArgDeltas == 0 {
		t.Errorf("streamed %+v (%d argument deltas), answered %+v", r.Streamed, r.ArgDeltas, r.Calls)
	}
	// The second turn holds the first prompt, the call and its output.
	if r.RoundTrip.InputTokens <= r.RoundTrip.FirstInputTokens || len(r.RoundTrip.Types) == 0 {
		t.Errorf("round trip %+v", r.RoundTrip)
	}
}
