package engine

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// pngImage is a w×h PNG whose colours depend on seed.
func pngImage(t *testing.T, w, h, seed int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x*37 + seed*91), uint8(y*53 + seed*17), uint8((x + y + seed) * 29), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// visionModelDir is the tiny Gemma 3 vision model, windows wide enough for
// the answer to see the image.
func visionModelDir(t *testing.T) string {
	return tinyModelSpec(t, modeltest.Spec{Arch: "gemma3mm", Layers: 2, Seed: 9, MaxPos: 1024, SlidingWindow: 512})
}

// question is long enough that a prompt sharing it is worth reusing (the
// prefix cache cuts a kept sequence down to no less than half of it).
const question = "Here is a picture I took on a walk in the hills this morning, just after the rain stopped. What is in it?"

// askImage asks about img (placed after the question) and returns the
// answer with the logprobs of its tokens.
func askImage(t *testing.T, e *Engine, dir string, img []byte) *Result {
	t.Helper()
	msgs := []Message{{Role: "user", Content: question}}
	if img != nil {
		msgs[0].Images = []Image{{Data: img, At: len(question)}}
	}
	res, err := e.Chat(context.Background(), ChatRequest{Model: dir, Messages: msgs, Options: GenOptions{MaxTokens: 6, Logprobs: true}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestChatWithImages: an image reaches the model (its tokens are in the
// prompt and it changes the answer), the prefix cache reuses an image's KV
// only for the same image, and a reused prefix gives the answer a cold
// engine gives.
func TestChatWithImages(t *testing.T) {
	// <start_of_image>, 4 placeholders, <end_of_image> and the "\n\n" around.
	// The prompts differ from the image on: b reuses the question's KV, and
	// nothing of a's image (its 4 placeholders, <end_of_image>, "\n\n" and
	// the end of the turn are at least 8 tokens).
	checkImageChat(t, visionModelDir(t), 6, func(text, first *Result) int { return first.Usage.PromptTokens - 8 })
}

// checkImageChat asks a vision model in dir the question without an image,
// with image a, with image b and with a again: an image adds at least
// minAdded prompt tokens and changes the answer, b reuses at most
// maxReused(text, first) cached tokens of a's prompt, a cold engine answers b
// as the warm one did, and a again reuses its whole image from the cache.
func checkImageChat(t *testing.T, dir string, minAdded int, maxReused func(text, first *Result) int) {
	t.Helper()
	a, b := pngImage(t, 23, 17, 1), pngImage(t, 9, 30, 2)
	warm := newTestEngine(t)
	text := askImage(t, warm, dir, nil)
	first := askImage(t, warm, dir, a)
	if d := first.Usage.PromptTokens - text.Usage.PromptTokens; d < minAdded {
		t.Fatalf("the image added %d prompt tokens, want at least %d", d, minAdded)
	}
	if first.Logprobs[0].Logprob == text.Logprobs[0].Logprob {
		t.Fatal("the image did not change the first token's logprob")
	}
	other := askImage(t, warm, dir, b)
	if other.Logprobs[0].Logprob == first.Logprobs[0].Logprob {
		t.Fatal("two images gave the same first logprob")
	}
	if c := other.Usage.CachedTokens; c == 0 || c > maxReused(text, first) {
		t.Fatalf("image b reused %d tokens of a prompt of %d with image a", c, first.Usage.PromptTokens)
	}
	cold := askImage(t, newTestEngine(t), dir, b)
	if cold.Content != other.Content || cold.Logprobs[0].Logprob != other.Logprobs[0].Logprob {
		t.Fatalf("after another image's request, image b answered %q (%g), cold %q (%g)",
			other.Content, other.Logprobs[0].Logprob, cold.Content, cold.Logprobs[0].Logprob)
	}
	again := askImage(t, warm, dir, a)
	if again.Usage.CachedTokens < first.Usage.PromptTokens-text.Usage.PromptTokens {
		t.Fatalf("the same image again reused %d tokens", again.Usage.CachedTokens)
	}
	if again.Content != first.Content || again.Logprobs[0].Logprob != first.Logprobs[0].Logprob {
		t.Fatalf("the same image from the cache answered %q, first %q", again.Content, first.Content)
	}
}

// TestCacheKeySeparatesImages: the prefix cache's key of a prompt holds the
// text's tokens as they are and each image's placeholders as words of its
// hash, so two images share no prefix past their start.
func TestCacheKeySeparatesImages(t *testing.T) {
	prompt := []int32{2, 7, 500, 502, 502, 502, 502, 501, 9}
	ka := cacheKey(prompt, []promptImage{{at: 3, hash: pixelHash([3]int{}, []float32{1, 2}), tokens: 4}})
	kb := cacheKey(prompt, []promptImage{{at: 3, hash: pixelHash([3]int{}, []float32{1, 3}), tokens: 4}})
	if n := commonPrefix(ka, kb); n != 3 {
		t.Fatalf("keys of two images share %d tokens, want the 3 before the image", n)
	}
	for i, k := range ka {
		if (i >= 3 && i < 7) != (k < 0) {
			t.Fatalf("key %d is %d", i, k)
		}
	}
	if imageStart(5, []promptImage{{at: 3, tokens: 4}}) != 3 {
		t.Fatal("a prefix ending inside an image was not moved to its start")
	}
}

// TestImagesRefused: a text model given an image, an undecodable image and
// an image placed outside its message are invalid requests.
func TestImagesRefused(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	text := tinyModel(t)
	img := pngImage(t, 8, 8, 1)
	_, err := e.Chat(ctx, ChatRequest{Model: text, Messages: []Message{{Role: "user", Content: "hi", Images: []Image{{Data: img}}}}}, nil)
	if !errors.Is(err, ErrInvalidRequest) || !errors.Is(err, ErrNoImages) {
		t.Fatalf("text model given an image: %v", err)
	}
	dir := visionModelDir(t)
	for name, im := range map[string]Image{
		"not an image": {Data: []byte("hello")},
		"outside":      {Data: img, At: 99},
	} {
		_, err := e.Chat(ctx, ChatRequest{Model: dir, Messages: []Message{{Role: "user", Content: "hi", Images: []Image{im}}}}, nil)
		if !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
