package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine/chat"
	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/tokenizer"
	"github.com/mlx-manager/mlx-manager/engine/vision"
)

// Image is one image of a message: its encoded bytes (PNG, JPEG, GIF or
// WebP) and where it stands in the message's Content.
type Image struct {
	Data []byte
	At   int // byte offset in Content; images at one offset keep their order
}

// ErrNoImages marks images sent to a model that cannot read them.
var ErrNoImages = errors.New("this model does not accept images")

// visionInput is what a vision-language model needs to read images: where
// they go in a prompt and how its image processor makes pixel values.
type visionInput struct {
	spec model.ImageSpec
	proc *vision.Processor // nil: images are refused with procErr
	err  error
}

// loadVision reads preprocessor_config.json of a model with a vision tower.
// A model without one still chats; its images are refused with the reason.
func loadVision(dir string, v model.Vision, tok *tokenizer.Tokenizer, log *slog.Logger) *visionInput {
	in := &visionInput{spec: v.Image()}
	b, err := os.ReadFile(filepath.Join(dir, "preprocessor_config.json"))
	if err == nil {
		in.proc, err = vision.ParseProcessor(b)
	}
	if err == nil && in.spec.Merge > 0 {
		err = checkGridProcessor(in, log)
	} else if err == nil && (in.proc.Width != in.spec.Size || in.proc.Height != in.spec.Size) {
		err = fmt.Errorf("preprocessor_config.json resizes to %dx%d, the vision tower reads %dx%d",
			in.proc.Width, in.proc.Height, in.spec.Size, in.spec.Size)
	}
	if err == nil && in.proc.Tile > 0 {
		err = checkTiled(dir, in, tok)
	}
	if err != nil {
		in.proc, in.err = nil, fmt.Errorf("%w: %w", ErrNoImages, err)
		log.Warn("vision model without a usable image processor: images will be refused", "dir", dir, "err", err)
	}
	return in
}

// visionArchs are the architectures whose families bind a vision tower.
var visionArchs = map[string]bool{"Gemma3ForConditionalGeneration": true, "Idefics3ForConditionalGeneration": true,
	"SmolVLMForConditionalGeneration": true, "Qwen2_5_VLForConditionalGeneration": true, "Qwen2VLForConditionalGeneration": true}

// promptImage is what the vision tower reads at once: an image, or one
// tile of an image its processor splits (Idefics3).
type promptImage struct {
	at     int       // the prompt position of its first placeholder token
	pixels []float32 // (channels, size, size); a grid's patches (grid.go)
	hash   [32]byte  // of the pixel values: what the prefix cache tells images apart by
	grid   [3]int    // patches (t, h, w) for a tower of dynamic size; zero otherwise
	tokens int       // its placeholder tokens: ImageSpec.Tokens, or the grid's
}

// markedImage is one image of a request: its tiles in the order their
// placeholders take in the prompt (one tile unless its processor splits).
type markedImage struct {
	tiles      []promptImage
	rows, cols int // the grid of split tiles; 0, 0: not split
}

// promptImages carries a request's images from its messages through the
// template: each stands in the content as a marker no client can forge (a
// random nonce), which encode replaces by the image's tokens.
type promptImages struct {
	nonce  string
	marker *regexp.Regexp
	images []markedImage // by marker number
	tiled  bool          // Idefics3's prompts: tiles between image tokens (encode)
	grid   bool          // Qwen2-VL's prompts: a run of placeholders as long as the image's grid (grid.go)
}

// attachImages processes the images of req's messages and puts their
// markers into msgs' contents; nil when the request has none.
func (l *loaded) attachImages(req *ChatRequest, msgs []chat.Message) (*promptImages, error) {
	var p *promptImages
	for i, m := range req.Messages {
		if len(m.Images) == 0 {
			continue
		}
		param := fmt.Sprintf("messages[%d].content", i)
		if l.vision == nil {
			return nil, &InvalidError{Param: param, Err: fmt.Errorf("%w: %s reads text only", ErrNoImages, l.id)}
		}
		if l.vision.proc == nil {
			return nil, &InvalidError{Param: param, Err: l.vision.err}
		}
		if p == nil {
			var b [8]byte
			_, _ = rand.Read(b[:])
			nonce := hex.EncodeToString(b[:])
			p = &promptImages{nonce: nonce, marker: regexp.MustCompile("\uE000" + nonce + `#(\d+)` + "\uE001"),
				tiled: l.vision.proc.Tile > 0, grid: l.vision.spec.Merge > 0}
		}
		var content strings.Builder
		from := 0
		for k, img := range m.Images {
			if img.At < from || img.At > len(m.Content) {
				return nil, &InvalidError{Param: param, Err: fmt.Errorf("image %d placed at %d in a content of %d bytes", k, img.At, len(m.Content))}
			}
			t, err := l.vision.proc.ProcessTiles(img.Data, vision.DefaultLimits)
			if err != nil {
				return nil, &InvalidError{Param: fmt.Sprintf("%s.image[%d]", param, k), Err: err}
			}
			content.WriteString(m.Content[from:img.At])
			fmt.Fprintf(&content, "\uE000%s#%d\uE001", p.nonce, len(p.images))
			from = img.At
			mi := markedImage{rows: t.Rows, cols: t.Cols}
			for _, px := range t.Tiles {
				mi.tiles = append(mi.tiles, l.vision.promptImage(px, t.Grid))
			}
			p.images = append(p.images, mi)
		}
		content.WriteString(m.Content[from:])
		msgs[i].Content = content.String()
	}
	return p, nil
}

// pixelHash is what the prefix cache tells images apart by: the image's grid
// of patches (zero for a tower of a fixed size) and its pixel values.
func pixelHash(grid [3]int, px []float32) [32]byte {
	h := sha256.New()
	var b [4]byte
	for _, g := range grid {
		binary.LittleEndian.PutUint32(b[:], uint32(g))
		h.Write(b[:])
	}
	for _, v := range px {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		h.Write(b[:])
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// encode tokenizes a rendered prompt whose contents hold image markers, as
// Gemma3Processor does: each image becomes "\n\n", <start_of_image>, its
// placeholder tokens, <end_of_image>, "\n\n", the text on each side
// tokenized on its own as around any special token.
func (p *promptImages) encode(tok *tokenizer.Tokenizer, spec model.ImageSpec, segs []tokenizer.Segment) []int32 {
	if p.tiled {
		return p.encodeTiled(tok, spec, segs)
	}
	if p.grid {
		return p.encodeGrid(tok, spec, segs)
	}
	var ids []int32
	var run []tokenizer.Segment
	for _, s := range segs {
		text := s.Text
		for {
			loc := p.marker.FindStringIndex(text)
			if loc == nil {
				break
			}
			run = append(run, tokenizer.Segment{Text: text[:loc[0]] + "\n\n", ParseSpecial: s.ParseSpecial})
			ids = append(ids, tok.EncodeSegments(run, false)...)
			run = run[:0]
			if spec.Begin >= 0 {
				ids = append(ids, spec.Begin)
			}
			for range spec.Tokens {
				ids = append(ids, spec.Token)
			}
			if spec.End >= 0 {
				ids = append(ids, spec.End)
			}
			text = "\n\n" + text[loc[1]:]
		}
		run = append(run, tokenizer.Segment{Text: text, ParseSpecial: s.ParseSpecial})
	}
	return append(ids, tok.EncodeSegments(run, false)...)
}

// place finds the images of the prompt the template rendered as text (which
// may have dropped some messages to fit the window) and tokenized as ids:
// the markers of text in order, the runs of placeholders of ids in order.
func (p *promptImages) place(text string, ids []int32, spec model.ImageSpec) ([]promptImage, error) {
	var placed []promptImage
	for _, m := range p.marker.FindAllStringSubmatch(text, -1) {
		k, err := strconv.Atoi(m[1])
		if err != nil || k >= len(p.images) {
			return nil, fmt.Errorf("image marker %q", m[0])
		}
		placed = append(placed, p.images[k].tiles...)
	}
	n := 0
	for t := 0; t < len(ids); t++ {
		if ids[t] != spec.Token {
			continue
		}
		if n == len(placed) || t+placed[n].tokens > len(ids) {
			return nil, fmt.Errorf("the prompt holds more image tokens than its %d images", len(placed))
		}
		placed[n].at = t
		t += placed[n].tokens - 1
		n++
	}
	if n != len(placed) {
		return nil, fmt.Errorf("%d images (or tiles) in the prompt, %d runs of image tokens", len(placed), n)
	}
	return placed, nil
}

// cacheKey is the prompt as the prefix cache compares it: each image's
// placeholder tokens are replaced by words of its content hash, negative so
// that no token id equals them, so that two different images never share a
// KV cache while the same image in the next turn of a chat is reused.
func cacheKey(prompt []int32, images []promptImage) []int32 {
	key := append([]int32(nil), prompt...)
	for _, img := range images {
		for i := range img.tokens {
			w := (binary.LittleEndian.Uint32(img.hash[(i%8)*4:]) ^ uint32(i/8)) >> 1
			key[img.at+i] = -1 - int32(w)
		}
	}
	return key
}

// prefillImages runs the part of the prompt not already cached, from have
// on, when it holds images: their embeddings first, then the tokens with the
// images spliced, in one call on the request's own sequence (the slot it
// holds keeps the scheduler's count; the batched steps carry tokens only).
func (l *loaded) prefillImages(ctx context.Context, seq model.Sequence, j *job, have int) ([]float32, error) {
	im, ok := seq.(model.Imager)
	if !ok {
		return nil, &InvalidError{Param: "messages", Err: fmt.Errorf("%w: the %s executor does not run vision towers", ErrNoImages, l.runner.Backend())}
	}
	var spans []model.ImageSpan
	for _, img := range j.images {
		if img.at < have {
			continue
		}
		var e []float32
		var err error
		if img.grid[0] > 0 {
			e, err = im.ImageGridEmbeds(ctx, img.pixels, img.grid)
		} else {
			e, err = im.ImageEmbeds(ctx, img.pixels)
		}
		if err != nil {
			return nil, fmt.Errorf("image at %d: %w", img.at, err)
		}
		sp := model.ImageSpan{At: img.at - have, Embeds: e}
		if m := l.vision.spec.Merge; img.grid[0] > 0 && m > 0 {
			// M-RoPE positions an image by its grid of embeddings.
			sp.Grid = [3]int{img.grid[0], img.grid[1] / m, img.grid[2] / m}
		}
		spans = append(spans, sp)
	}
	return im.ForwardImages(ctx, j.prompt[have:], spans)
}

// imageStart moves have back to the start of an image it would cut: an
// image's tokens go through the layers together.
func imageStart(have int, images []promptImage) int {
	for _, img := range images {
		if have > img.at && have < img.at+img.tokens {
			return img.at
		}
	}
	return have
}

// imagesFrom reports whether the prompt has an image at or after have.
func imagesFrom(images []promptImage, have int) bool {
	for _, img := range images {
		if img.at >= have {
			return true
		}
	}
	return false
}
