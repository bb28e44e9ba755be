package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestV1Bounds sends out-of-range numbers and oversized lists to /v1 on the real
// server: each is a 400 naming the field (or a 413), never a 500 or a panic.
func TestV1Bounds(t *testing.T) {
	e := startOps(t)
	msgs := `[{"role":"user","content":"hi"}]`
	chat := func(extra string) string { return `{"model":"test/tiny","messages":` + msgs + `,` + extra + `}` }
	many := func(n int, item string) string {
		return "[" + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + "]"
	}
	bias := map[string]int{}
	for i := 0; i < 1025; i++ {
		bias[fmt.Sprint(i)] = 1
	}
	biasJSON, _ := json.Marshal(bias)
	cases := []struct {
		name, path, body string
		want             int
	}{
		{"max_tokens zero", "/v1/chat/completions", chat(`"max_tokens":0`), 400},
		{"max_tokens negative", "/v1/chat/completions", chat(`"max_tokens":-5`), 400},
		{"max_tokens past the context", "/v1/chat/completions", chat(`"max_tokens":1000000000`), 400},
		{"max_tokens overflows int", "/v1/chat/completions", chat(`"max_tokens":99999999999999999999`), 400},
		{"max_tokens fractional", "/v1/chat/completions", chat(`"max_tokens":1.5`), 400},
		{"n zero", "/v1/chat/completions", chat(`"n":0`), 400},
		{"n too many", "/v1/chat/completions", chat(`"n":9`), 400},
		{"top_logprobs too many", "/v1/chat/completions", chat(`"logprobs":true,"top_logprobs":21`), 400},
		{"temperature too high", "/v1/chat/completions", chat(`"temperature":2.5`), 400},
		{"top_p above one", "/v1/chat/completions", chat(`"top_p":1.5`), 400},
		{"top_k negative", "/v1/chat/completions", chat(`"top_k":-1`), 400},
		{"presence_penalty", "/v1/chat/completions", chat(`"presence_penalty":3`), 400},
		{"stop strings", "/v1/chat/completions", chat(`"stop":` + many(17, `"x"`)), 400},
		{"tools", "/v1/chat/completions", chat(`"tools":` + many(129, `{"type":"function","function":{"name":"f"}}`)), 400},
		{"logit_bias entries", "/v1/chat/completions", chat(`"logit_bias":` + string(biasJSON)), 400},
		{"messages", "/v1/chat/completions", `{"model":"test/tiny","messages":` + many(10001, `{"role":"user","content":"x"}`) + `}`, 400},
		{"no messages", "/v1/chat/completions", `{"model":"test/tiny","messages":[]}`, 400},
		{"legacy logprobs", "/v1/completions", `{"model":"test/tiny","prompt":"a","logprobs":6}`, 400},
		{"prompts", "/v1/completions", `{"model":"test/tiny","prompt":` + many(2049, `"a"`) + `}`, 400},
		{"embedding inputs", "/v1/embeddings", `{"model":"test/tiny","input":` + many(2049, `"a"`) + `}`, 400},
		{"anthropic max_tokens", "/v1/messages", `{"model":"test/tiny","max_tokens":-1,"messages":` + msgs + `}`, 400},
		{"anthropic temperature", "/v1/messages", `{"model":"test/tiny","max_tokens":4,"temperature":1.5,"messages":` + msgs + `}`, 400},
		{"NaN is not JSON", "/v1/chat/completions", chat(`"temperature":NaN`), 400},
		{"body over 4 MiB", "/v1/chat/completions", chat(`"user":"` + strings.Repeat("a", 4<<20) + `"`), 413},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := e.Do(t, "POST", tc.path, e.key, tc.body)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, b)
			}
		})
	}
	// A huge top_k is not an error: it keeps every token.
	e.JSON(t, "POST", "/v1/chat/completions", e.key, chat(`"max_tokens":2,"top_k":2147483647`), http.StatusOK, nil)
}
