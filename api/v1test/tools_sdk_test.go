package v1test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/internal/testenv"

	openaisdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

// toolsGoSDK drives structured output and tools through the official Go
// SDK: a strict json_schema answer, forced calls, and their streams put
// together by the SDK's accumulator.
func toolsGoSDK(t *testing.T, e *env) {
	// Our own transport, whose idle connections close before the server shuts
	// down (cleanups run last-registered first): an idle keep-alive the SDK
	// dialled would hold the shutdown for its grace period.
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	client := openaisdk.NewClient(option.WithBaseURL(e.URL+"/v1/"), option.WithAPIKey(e.key), option.WithMaxRetries(0), option.WithHTTPClient(hc))
	ctx := context.Background()
	base := openaisdk.ChatCompletionNewParams{
		Model:               qwenID,
		Messages:            []openaisdk.ChatCompletionMessageParamUnion{openaisdk.UserMessage("Weather in Paris?")},
		Temperature:         openaisdk.Float(1),
		Seed:                openaisdk.Int(11),
		MaxCompletionTokens: openaisdk.Int(200),
	}
	var weather map[string]any
	if err := json.Unmarshal([]byte(mustJSON(t, weatherTools[0]["function"].(map[string]any)["parameters"])), &weather); err != nil {
		t.Fatal(err)
	}

	t.Run("json_schema", func(t *testing.T) {
		p := base
		p.ResponseFormat = openaisdk.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
			JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "weather", Strict: openaisdk.Bool(true), Schema: weather}}}
		r, err := client.Chat.Completions.New(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		content := r.Choices[0].Message.Content
		if err := checkArgs("get_weather", []byte(content)); err != nil || r.Choices[0].FinishReason != "stop" {
			t.Fatalf("answer %q (%s): %v", content, r.Choices[0].FinishReason, err)
		}
		acc := accumulate(t, client, p)
		if acc.Choices[0].Message.Content != content {
			t.Fatalf("streamed %q, answered %q", acc.Choices[0].Message.Content, content)
		}
	})

	t.Run("tools", func(t *testing.T) {
		p := base
		for _, w := range weatherTools {
			f := w["function"].(map[string]any)
			var params map[string]any
			if err := json.Unmarshal([]byte(mustJSON(t, f["parameters"])), &params); err != nil {
				t.Fatal(err)
			}
			p.Tools = append(p.Tools, openaisdk.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
				Name: f["name"].(string), Strict: openaisdk.Bool(true), Parameters: params}))
		}
		p.ToolChoice = openaisdk.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openaisdk.String("required")}
		r, err := client.Chat.Completions.New(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		calls := r.Choices[0].Message.ToolCalls
		if r.Choices[0].FinishReason != "tool_calls" || len(calls) == 0 {
			t.Fatalf("answer %+v", r.Choices[0])
		}
		for _, c := range calls {
			if err := checkArgs(c.Function.Name, []byte(c.Function.Arguments)); err != nil {
				t.Fatal(err)
			}
		}
		acc := accumulate(t, client, p)
		got := acc.Choices[0].Message.ToolCalls
		if len(got) != len(calls) || acc.Choices[0].FinishReason != "tool_calls" {
			t.Fatalf("streamed %+v, answered %+v", acc.Choices[0], r.Choices[0])
		}
		for i := range got {
			if got[i].Function.Name != calls[i].Function.Name || got[i].Function.Arguments != calls[i].Function.Arguments {
				t.Fatalf("streamed call %d %+v, answered %+v", i, got[i].Function, calls[i].Function)
			}
		}
	})
}

func accumulate(t *testing.T, client openaisdk.Client, p openaisdk.ChatCompletionNewParams) openaisdk.ChatCompletionAccumulator {
	t.Helper()
	stream := client.Chat.Completions.NewStreaming(context.Background(), p)
	defer stream.Close()
	var acc openaisdk.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	return acc
}

// toolsNodeSDKs runs run.mjs's tool scenarios (TOOLS_MODEL set) with the
// official openai and @anthropic-ai/sdk npm packages: parse() with a JSON
// schema and with zod, strict and zod tools, the SDKs' stream helpers.
func toolsNodeSDKs(t *testing.T, e *env) {
	dir := filepath.Join("testdata", "sdk")
	for _, pkg := range []string{"openai", "zod"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg)); err != nil {
			testenv.Need(t, false, fmt.Sprintf("the SDKs are not installed: run npm ci --prefix api/v1test/testdata/sdk (%v)", err))
		}
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Need(t, false, fmt.Sprintf("node is not installed: %v", err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "run.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "BASE_URL="+e.URL, "API_KEY="+e.key, "MODEL="+tinyID, "TOOLS_MODEL="+qwenID)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node run.mjs: %v\n%s", err, stderr.String())
	}
	var res nodeResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}
	t.Run("parse", func(t *testing.T) { nodeParse(t, res) })
	t.Run("tools", func(t *testing.T) { nodeTools(t, res) })
	t.Run("anthropic", func(t *testing.T) { nodeAnthropicTools(t, res) })
	t.Run("responses", func(t *testing.T) { nodeResponsesTools(t, res) })
}

func nodeParse(t *testing.T, res nodeResult) {
	var js struct {
		Parsed       json.RawMessage
		Content      string
		FinishReason string `json:"finish_reason"`
	}
	if res.get(t, "parseJSONSchema", &js) {
		if err := checkArgs("get_weather", js.Parsed); err != nil || js.FinishReason != "stop" || !jsonSame(js.Parsed, []byte(js.Content)) {
			t.Errorf("parsed %s from %q (%s): %v", js.Parsed, js.Content, js.FinishReason, err)
		}
	}
	var zod struct {
		Parsed struct {
			City string
			Unit string
			Days *int
			Tags []string
		}
		Valid        bool
		FinishReason string `json:"finish_reason"`
	}
	if res.get(t, "parseZod", &zod) && (!zod.Valid || zod.FinishReason != "stop" || len(zod.Parsed.Tags) > 2) {
		t.Errorf("zod %+v", zod)
	}
}

type nodeCall struct {
	ID, Type, Name, Arguments string
	Parsed                    json.RawMessage
}

func nodeTools(t *testing.T, res nodeResult) {
	var p map[string]struct {
		FinishReason string `json:"finish_reason"`
		Calls        []nodeCall
	}
	if res.get(t, "parseTools", &p) {
		for mode, r := range p {
			if r.FinishReason != "tool_calls" || len(r.Calls) != 1 || mode == "named" && r.Calls[0].Name != "get_time" {
				t.Errorf("%s: %+v", mode, r)
				continue
			}
			c := r.Calls[0]
			if err := checkArgs(c.Name, []byte(c.Arguments)); err != nil || !jsonSame(c.Parsed, []byte(c.Arguments)) || c.Type != "function" {
				t.Errorf("%s: call %+v: %v", mode, c, err)
			}
		}
	}
	var s struct {
		Answer, Streamed []nodeCall
		Deltas           int
		FinishReason     string `json:"finish_reason"`
		AnswerFinish     string `json:"answer_finish"`
	}
	if !res.get(t, "streamTools", &s) {
		return
	}
	if s.FinishReason != "tool_calls" || s.AnswerFinish != "tool_calls" || len(s.Streamed) == 0 || len(s.Streamed) != len(s.Answer) || s.Deltas < len(s.Streamed) {
		t.Fatalf("stream %+v", s)
	}
	for i, c := range s.Streamed {
		if c.Name != s.Answer[i].Name || c.Arguments != s.Answer[i].Arguments || checkArgs(c.Name, []byte(c.Arguments)) != nil {
			t.Errorf("streamed call %d %+v, answered %+v", i, c, s.Answer[i])
		}
	}
}

func nodeAnthropicTools(t *testing.T, res nodeResult) {
	type use struct {
		ID, Name string
		Input    json.RawMessage
	}
	var a struct {
		StopReason string `json:"stop_reason"`
		Uses       []use
		Streamed   []use
		StreamStop string `json:"stream_stop"`
		JSONDeltas int    `json:"json_deltas"`
		RoundTrip  struct {
			StopReason       string `json:"stop_reason"`
			InputTokens      int    `json:"input_tokens"`
			FirstInputTokens int    `json:"first_input_tokens"`
		} `json:"round_trip"`
	}
	if !res.get(t, "anthropicTools", &a) {
		return
	}
	if a.StopReason != "tool_use" || a.StreamStop != "tool_use" || len(a.Uses) == 0 || len(a.Streamed) != len(a.Uses) || a.JSONDeltas == 0 {
		t.Fatalf("anthropic %+v", a)
	}
	for i, u := range a.Uses {
		if err := checkArgs(u.Name, u.Input); err != nil || u.Name != a.Streamed[i].Name || !jsonSame(u.Input, a.Streamed[i].Input) {
			t.Errorf("tool_use %d %+v, streamed %+v: %v", i, u, a.Streamed[i], err)
		}
	}
	if rt := a.RoundTrip; rt.StopReason == "tool_use" || rt.InputTokens <= rt.FirstInputTokens {
		t.Errorf("round trip %+v", rt)
	}
}

// jsonSame reports whether two JSON texts hold the same value.
func jsonSame(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(bytes.TrimSpace(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
