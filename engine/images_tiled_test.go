package engine

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/cpu"
	"github.com/mlx-manager/mlx-manager/engine/graph"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/tokenizer"
	"github.com/mlx-manager/mlx-manager/engine/vision"
)

// tiledModelDir is the tiny Idefics3 (SmolVLM) model: tiles of 18 pixels,
// images scaled to a longest edge of 36, four features a tile.
func tiledModelDir(t *testing.T) string {
	return tinyModelSpec(t, modeltest.Spec{Arch: "idefics3", Layers: 2, Seed: 9, MaxPos: 1024})
}

func newCPURunner(_ context.Context, m *model.Model) (model.Runner, error) {
	return cpu.New(m, cpu.Options{Threads: 2})
}

// TestTiledPrompt: an image in a SmolVLM prompt becomes Idefics3Processor's
// text of its tiles, tokenized with the rest: a 20x10 image is scaled to
// 36x18 and cut into a 1x2 grid, so <fake_token_around_image>,
// <row_1_col_1>, four <image>, <fake_token_around_image>, <row_1_col_2>,
// four <image>, "\n\n", <fake_token_around_image>, <global-img>, four
// <image>, <fake_token_around_image>; each tile's placeholders are placed
// with its own pixels, split tiles first and the global one last.
func TestTiledPrompt(t *testing.T) {
	dir := tiledModelDir(t)
	l, err := openLoaded(context.Background(), "tiled", dir, newCPURunner, SchedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.vision == nil || l.vision.err != nil {
		t.Fatalf("vision input %+v", l.vision)
	}
	img := pngImage(t, 20, 10, 3)
	const text = "What is this?"
	j, err := l.chatPrompt(&ChatRequest{Model: dir, Messages: []Message{{Role: "user", Content: text, Images: []Image{{Data: img, At: len(text)}}}}})
	if err != nil {
		t.Fatal(err)
	}
	const fake, glob, im = modeltest.Idefics3Fake, modeltest.Idefics3Global, modeltest.Idefics3Image
	want := []int32{fake, modeltest.Idefics3Row, im, im, im, im, fake, modeltest.Idefics3Row + 1, im, im, im, im}
	want = append(want, l.tok.EncodeSegments([]tokenizer.Segment{{Text: "\n\n"}}, false)...)
	want = append(want, fake, glob, im, im, im, im, fake)
	at := slices.Index(j.prompt, fake)
	if at < 0 || at+len(want) > len(j.prompt) || !slices.Equal(j.prompt[at:at+len(want)], want) {
		t.Fatalf("prompt %v, want the image as %v", j.prompt, want)
	}
	// The text around is tokenized as without the image.
	head := l.tok.EncodeSegments([]tokenizer.Segment{{Text: "<|im_start|>User: " + text, ParseSpecial: true}}, false)
	if !slices.Equal(j.prompt[:at], head) {
		t.Errorf("before the image: %v, want %v", j.prompt[:at], head)
	}
	tiles, err := l.vision.proc.ProcessTiles(img, vision.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if tiles.Rows != 1 || tiles.Cols != 2 || len(j.images) != 3 {
		t.Fatalf("%dx%d grid, %d tiles placed", tiles.Rows, tiles.Cols, len(j.images))
	}
	for i, want := range []int{at + 2, at + 8, at + 12 + (len(want) - 19) + 2} {
		if j.images[i].at != want || j.images[i].hash != pixelHash([3]int{}, tiles.Tiles[i]) {
			t.Errorf("tile %d placed at %d, want %d (or with other pixels)", i, j.images[i].at, want)
		}
	}
}

// TestChatWithTiledImages: a SmolVLM chat with an image reads it (the
// tiles' tokens are in the prompt, the answer changes), the prefix cache
// reuses an image's KV only for the same image, and a reused prefix gives
// the answer a cold engine gives.
func TestChatWithTiledImages(t *testing.T) {
	// 23x17 is scaled to 36x26, then 36x36: a 2x2 grid and the global tile,
	// 5x4 placeholders and 2 tokens before each tile, 2 after the global. Image
	// b reuses at most the text before the image.
	checkImageChat(t, tiledModelDir(t), 5*4+5*2+2, func(text, _ *Result) int { return text.Usage.PromptTokens })
}

// TestTiledImagesRefused: the graph executor, which runs no vision tower,
// refuses a SmolVLM image as an invalid request, and so does a checkpoint
// whose tokenizer lacks the image tokens its prompts need.
func TestTiledImagesRefused(t *testing.T) {
	dir := tiledModelDir(t)
	img := pngImage(t, 8, 8, 1)
	req := ChatRequest{Model: dir, Messages: []Message{{Role: "user", Content: "hi", Images: []Image{{Data: img}}}}, Options: GenOptions{MaxTokens: 2}}
	l, err := openLoaded(context.Background(), "graph", dir, func(ctx context.Context, m *model.Model) (model.Runner, error) {
		return graph.New(ctx, m, graph.Options{})
	}, SchedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	j, err := l.chatPrompt(&req)
	if err != nil {
		t.Fatal(err)
	}
	seq, err := l.runner.NewSequence(len(j.prompt) + 2)
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	if _, err := l.prefillImages(context.Background(), seq, j, 0); !errors.Is(err, ErrNoImages) {
		t.Fatalf("graph executor given an image: %v", err)
	}
	var inv *InvalidError
	if _, err := l.prefillImages(context.Background(), seq, j, 0); !errors.As(err, &inv) {
		t.Fatalf("graph executor given an image: %v is not an invalid request", err)
	}

	tok, err := tokenizer.Load(modelDirWithoutImageTokens(t))
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	v := loadVision(dir, m.Def.(model.Vision), tok, slog.New(slog.DiscardHandler))
	if v.proc != nil || !errors.Is(v.err, ErrNoImages) {
		t.Fatalf("a tokenizer without <fake_token_around_image>: %+v", v)
	}
}

// modelDirWithoutImageTokens is a tiny Llama model's folder, whose
// tokenizer has none of SmolVLM's image tokens.
func modelDirWithoutImageTokens(t *testing.T) string { return tinyModel(t) }

// smolVLMTemplate is SmolVLM-256M-Instruct's chat template
// (chat_template.json), transcribed from a published copy: contents are
// lists of parts, an image part is written '<image>', and the role's colon
// takes no space when the content starts with an image.
const smolVLMTemplate = "<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"

// TestSmolVLMTemplate: with SmolVLM's own template, which reads contents
// only as parts, a text chat keeps its text and an image goes where the
// template writes '<image>', expanded into its tiles: the prompt is the
// tokens of the text transformers' processor builds.
func TestSmolVLMTemplate(t *testing.T) {
	dir := tiledModelDir(t)
	path := filepath.Join(dir, "tokenizer_config.json")
	var tc map[string]any
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, &tc)
	}
	if err != nil {
		t.Fatal(err)
	}
	tc["chat_template"] = smolVLMTemplate
	if b, err = json.Marshal(tc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := openLoaded(context.Background(), "smolvlm", dir, newCPURunner, SchedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !l.partsTemplate() {
		t.Fatal("SmolVLM's template is not read as one over parts")
	}
	encode := func(text string) []int32 {
		return l.tok.EncodeSegments([]tokenizer.Segment{{Text: text, ParseSpecial: true}}, false)
	}
	j, err := l.chatPrompt(&ChatRequest{Model: dir, Messages: []Message{{Role: "user", Content: "Hello there"}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := encode("<|im_start|>User: Hello there<end_of_utterance>\nAssistant:"); !slices.Equal(j.prompt, want) {
		t.Errorf("text chat: %v, want %v", j.prompt, want)
	}
	img := pngImage(t, 20, 10, 3) // a 1x2 grid and the global tile
	const q = "What is this?"
	j, err = l.chatPrompt(&ChatRequest{Model: dir, Messages: []Message{
		{Role: "user", Content: q, Images: []Image{{Data: img, At: 0}}},
		{Role: "assistant", Content: "A <image> of"},
		{Role: "user", Content: q, Images: []Image{{Data: img, At: len(q)}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tiles := tileText(1, 2, modeltest.Idefics3Tokens)
	// The assistant's "<image>" is its text: never an image, never the token.
	want := l.tok.EncodeSegments([]tokenizer.Segment{
		{Text: "<|im_start|>User:" + tiles + q + "<end_of_utterance>\nAssistant: ", ParseSpecial: true},
		{Text: "A <image> of"},
		{Text: "<end_of_utterance>\nUser: " + q + tiles + "<end_of_utterance>\nAssistant:", ParseSpecial: true},
	}, false)
	if !slices.Equal(j.prompt, want) {
		t.Errorf("images: %v\nwant %v", j.prompt, want)
	}
	if len(j.images) != 6 {
		t.Fatalf("%d tiles placed, want 6", len(j.images))
	}
}
