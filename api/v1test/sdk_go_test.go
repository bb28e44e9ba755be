package v1test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"

	openaisdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// TestGoSDK drives the server with the official Go SDK, as an application would:
// only the base URL and the API key differ from talking to api.openai.com.
func TestGoSDK(t *testing.T) {
	e := start(t, envOptions{encode: true})
	// An own client whose idle connections close at cleanup, so the server's
	// shutdown drain never waits on a kept-alive SDK connection.
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	client := openaisdk.NewClient(option.WithBaseURL(e.URL+"/v1/"), option.WithAPIKey(e.key), option.WithMaxRetries(0), option.WithHTTPClient(hc))
	ctx := context.Background()

	t.Run("models", func(t *testing.T) {
		page, err := client.Models.List(ctx)
		if err != nil || len(page.Data) != 3 || page.Data[2].ID != tinyID {
			t.Fatalf("list: %v %+v", err, page)
		}
		m, err := client.Models.Get(ctx, tinyID)
		if err != nil || m.ID != tinyID || m.OwnedBy != "test" {
			t.Errorf("get: %v %+v", err, m)
		}
	})

	params := openaisdk.ChatCompletionNewParams{
		Model:       tinyID,
		Messages:    []openaisdk.ChatCompletionMessageParamUnion{openaisdk.SystemMessage("Be brief."), openaisdk.UserMessage("Hello there")},
		MaxTokens:   openaisdk.Int(6),
		Temperature: openaisdk.Float(0),
		LogitBias:   map[string]int64{"2": -100},
	}
	var greedy string
	t.Run("chat", func(t *testing.T) {
		r, err := client.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if r.Choices[0].FinishReason != "length" || r.Usage.CompletionTokens != 6 || r.Usage.TotalTokens != r.Usage.PromptTokens+6 ||
			!strings.HasPrefix(r.ID, "chatcmpl-") || r.SystemFingerprint == "" || r.Model != tinyID {
			t.Errorf("answer %+v", r)
		}
		greedy = r.Choices[0].Message.Content
		again, err := client.Chat.Completions.New(ctx, params)
		if err != nil || again.Choices[0].Message.Content != greedy {
			t.Errorf("temperature 0 is not reproducible: %q vs %q (%v)", greedy, again.Choices[0].Message.Content, err)
		}
	})

	t.Run("stream", func(t *testing.T) {
		p := params
		p.StreamOptions = openaisdk.ChatCompletionStreamOptionsParam{IncludeUsage: openaisdk.Bool(true)}
		stream := client.Chat.Completions.NewStreaming(ctx, p)
		var acc openaisdk.ChatCompletionAccumulator
		for stream.Next() {
			acc.AddChunk(stream.Current())
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if acc.Choices[0].Message.Content != greedy || acc.Choices[0].FinishReason != "length" || acc.Usage.CompletionTokens != 6 {
			t.Errorf("accumulated %q %s %+v, want %q", acc.Choices[0].Message.Content, acc.Choices[0].FinishReason, acc.Usage, greedy)
		}
	})

	t.Run("seed", func(t *testing.T) {
		p := params
		p.Temperature, p.Seed = openaisdk.Float(1.2), openaisdk.Int(42)
		a, err := client.Chat.Completions.New(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := client.Chat.Completions.New(ctx, p)
		if err != nil || a.Choices[0].Message.Content != b.Choices[0].Message.Content {
			t.Errorf("seed 42 is not reproducible: %q vs %q (%v)", a.Choices[0].Message.Content, b.Choices[0].Message.Content, err)
		}
	})

	t.Run("completions", func(t *testing.T) {
		r, err := client.Completions.New(ctx, openaisdk.CompletionNewParams{
			Model: tinyID, Prompt: openaisdk.CompletionNewParamsPromptUnion{OfString: openaisdk.String("Once upon a time")},
			MaxTokens: openaisdk.Int(5), Temperature: openaisdk.Float(0), Logprobs: openaisdk.Int(1), LogitBias: map[string]int64{"2": -100},
		})
		if err != nil {
			t.Fatal(err)
		}
		if r.Choices[0].FinishReason != "length" || r.Usage.CompletionTokens != 5 || len(r.Choices[0].Logprobs.Tokens) != 5 {
			t.Errorf("completion %+v", r.Choices[0])
		}
	})

	t.Run("embeddings", func(t *testing.T) {
		r, err := client.Embeddings.New(ctx, openaisdk.EmbeddingNewParams{
			Model: embedID, Input: openaisdk.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"a", "b"}},
		})
		if err != nil || len(r.Data) != 2 {
			t.Fatalf("%v %+v", err, r)
		}
		var norm float64
		for _, x := range r.Data[1].Embedding {
			norm += x * x
		}
		if math.Abs(norm-1) > 1e-4 || r.Data[1].Index != 1 {
			t.Errorf("vector 1: norm² %g index %d", norm, r.Data[1].Index)
		}
		_, err = client.Embeddings.New(ctx, openaisdk.EmbeddingNewParams{
			Model: tinyID, Input: openaisdk.EmbeddingNewParamsInputUnion{OfString: openaisdk.String("a")},
		})
		var apiErr *openaisdk.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != "model_not_embedding" {
			t.Errorf("chat model: %v", err)
		}
	})

	t.Run("errors", func(t *testing.T) {
		p := params
		p.Model = "nobody/nothing"
		_, err := client.Chat.Completions.New(ctx, p)
		var apiErr *openaisdk.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "model_not_found" || apiErr.Param != "model" {
			t.Errorf("unknown model: %v", err)
		}
		p = params
		p.N = openaisdk.Int(20)
		_, err = client.Chat.Completions.New(ctx, p)
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != "n" || apiErr.Type != "invalid_request_error" {
			t.Errorf("n 20: %v", err)
		}
		bad := openaisdk.NewClient(option.WithBaseURL(e.URL+"/v1/"), option.WithAPIKey("wrong"), option.WithMaxRetries(0), option.WithHTTPClient(hc))
		_, err = bad.Models.List(ctx)
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 {
			t.Errorf("bad key: %v", err)
		}
	})
}
