package model_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/llama"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
	"github.com/mlx-manager/mlx-manager/engine/safetensors"
	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

func storiesDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(testenv.SharedDir(), "models", "stories260K")
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
		testenv.Need(t, false, fmt.Sprintf("stories260K not available at %s: %v", dir, err))
	}
	return dir
}

func TestOpenStories(t *testing.T) {
	m, err := model.Open(context.Background(), storiesDir(t))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if &m.Def.(*llama.Model).Weights().LMHead.Weight.Data[0] != &m.Def.(*llama.Model).Weights().Embed.Weight.Data[0] {
		t.Error("tied lm_head does not share the embeddings")
	}
	if !slices.Equal(m.StopTokens(), []int{2, 1}) {
		t.Errorf("stop tokens %v, want [2 1] from generation_config.json", m.StopTokens())
	}
	// Every tensor of the file is bound: 512*64 embeddings, 5 layers, final norm, all F32.
	perLayer := 64 + 64*64 + 2*32*64 + 64*64 + 64 + 3*64*172
	if got, want := m.WeightBytes(), int64(4*(512*64+5*perLayer+64)); got != want {
		t.Errorf("WeightBytes = %d, want %d", got, want)
	}
	if got := m.KVBytesPerToken(); got != 2*5*4*8*4 {
		t.Errorf("KVBytesPerToken = %d", got)
	}
	if m.DType() != model.F32 {
		t.Errorf("dtype %s", m.DType())
	}
}

// editJSON rewrites a JSON file of dir through f.
func editJSON(t *testing.T, dir, name string, f func(map[string]any)) {
	t.Helper()
	path := filepath.Join(dir, name)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, _ = json.Marshal(m)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// editHeader rewrites the safetensors header of dir's model file through f.
func editHeader(t *testing.T, dir string, f func(map[string]any)) {
	t.Helper()
	path := filepath.Join(dir, "model.safetensors")
	img, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := binary.LittleEndian.Uint64(img)
	var h map[string]any
	if err := json.Unmarshal(img[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	f(h)
	js, _ := json.Marshal(h)
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(js)))
	out = append(append(out, js...), img[8+n:]...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestOpenFailures(t *testing.T) {
	cases := []struct {
		name    string
		spec    modeltest.Spec
		corrupt func(t *testing.T, dir string)
		is      error
		want    []string
	}{
		{"truncated safetensors", modeltest.Spec{}, func(t *testing.T, dir string) {
			path := filepath.Join(dir, "model.safetensors")
			st, _ := os.Stat(path)
			if err := os.Truncate(path, st.Size()-100); err != nil {
				t.Fatal(err)
			}
		}, safetensors.ErrInvalid, []string{"data area"}},
		{"offsets out of range", modeltest.Spec{}, func(t *testing.T, dir string) {
			editHeader(t, dir, func(h map[string]any) {
				e := h["model.norm.weight"].(map[string]any)
				e["data_offsets"] = []int64{1 << 40, 1<<40 + 256}
			})
		}, safetensors.ErrInvalid, []string{"model.norm.weight", "outside"}},
		{"shape mismatch", modeltest.Spec{}, func(t *testing.T, dir string) {
			editJSON(t, dir, "config.json", func(c map[string]any) { c["intermediate_size"] = 96 })
		}, model.ErrWeights, []string{"model.layers.0.mlp.gate_proj.weight", "[128 64]", "[96 64]"}},
		{"missing lm_head", modeltest.Spec{Tied: true}, func(t *testing.T, dir string) {
			editJSON(t, dir, "config.json", func(c map[string]any) { c["tie_word_embeddings"] = false })
		}, model.ErrWeights, []string{"missing tensor lm_head.weight"}},
		{"missing qwen2 bias", modeltest.Spec{}, func(t *testing.T, dir string) {
			editJSON(t, dir, "config.json", func(c map[string]any) { c["architectures"] = []string{"Qwen2ForCausalLM"} })
		}, model.ErrWeights, []string{"missing tensor model.layers.0.self_attn.q_proj.bias"}},
		{"scales without quantization", modeltest.Spec{QuantBits: 4, GroupSize: 32}, func(t *testing.T, dir string) {
			editJSON(t, dir, "config.json", func(c map[string]any) { delete(c, "quantization"); delete(c, "quantization_config") })
		}, model.ErrWeights, []string{"model.embed_tokens.scales exists"}},
		{"wrong bits in config", modeltest.Spec{QuantBits: 4, GroupSize: 32}, func(t *testing.T, dir string) {
			q := map[string]any{"bits": 8, "group_size": 32}
			editJSON(t, dir, "config.json", func(c map[string]any) { c["quantization"] = q; c["quantization_config"] = q })
		}, model.ErrWeights, []string{"model.embed_tokens.weight has shape [512 8], want [512 16]", "8-bit"}},
		{"unsupported arch", modeltest.Spec{}, func(t *testing.T, dir string) {
			editJSON(t, dir, "config.json", func(c map[string]any) { c["architectures"] = []string{"PhiForCausalLM"} })
		}, model.ErrUnsupportedArch, []string{"PhiForCausalLM"}},
		{"no config", modeltest.Spec{}, func(t *testing.T, dir string) {
			_ = os.Remove(filepath.Join(dir, "config.json"))
		}, os.ErrNotExist, []string{"config.json"}},
		{"bad generation config", modeltest.Spec{}, func(t *testing.T, dir string) {
			_ = os.WriteFile(filepath.Join(dir, "generation_config.json"), []byte(`{"eos_token_id":[2,4096]}`), 0o644)
		}, nil, []string{"generation config", "4096"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := modeltest.New(t, c.spec)
			c.corrupt(t, dir)
			m, err := model.Open(context.Background(), dir)
			if err == nil {
				m.Close()
				t.Fatal("Open succeeded")
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %v does not wrap %v", err, c.is)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestOpenCanceled(t *testing.T) {
	dir := modeltest.New(t, modeltest.Spec{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := model.Open(ctx, dir); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

func TestLinearRowQuantizedMatchesFloat(t *testing.T) {
	// The same seed draws the same float weights; 8-bit quantization keeps each
	// within half a step of it, which bounds the row difference.
	f := modeltest.Open(t, modeltest.Spec{Seed: 3})
	q := modeltest.Open(t, modeltest.Spec{Seed: 3, QuantBits: 8, GroupSize: 32})
	a, b := make([]float32, 64), make([]float32, 64)
	for r := range 16 {
		if err := f.Def.(*llama.Model).Weights().Layers[1].Up.Row(r, a); err != nil {
			t.Fatal(err)
		}
		if err := q.Def.(*llama.Model).Weights().Layers[1].Up.Row(r, b); err != nil {
			t.Fatal(err)
		}
		for i := range a {
			if d := a[i] - b[i]; d > 0.01 || d < -0.01 {
				t.Fatalf("row %d col %d: float %g, 8-bit %g", r, i, a[i], b[i])
			}
		}
	}
	if bytes.Equal(f.Def.(*llama.Model).Weights().Embed.Weight.Data[:16], q.Def.(*llama.Model).Weights().Embed.Weight.Data[:16]) {
		t.Error("quantized embeddings stored as floats")
	}
}

// TestResidentBytesCountsHeldFiles checks that a file read into memory in
// full (safetensors' File.Held: on Linux, one of a huge page or more) counts
// whole in ResidentBytes, its unbound tensors too, while WeightBytes stays
// what the bound tensors are.
func TestResidentBytesCountsHeldFiles(t *testing.T) {
	dir := modeltest.New(t, modeltest.Spec{})
	m, err := model.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	bound := m.WeightBytes()
	if got := m.ResidentBytes(); got != bound {
		t.Errorf("ResidentBytes %d, want the bound tensors' %d (a small file is mapped)", got, bound)
	}
	m.Close()

	extra := filepath.Join(dir, "extra.safetensors")
	unused := make([]byte, 3<<20)
	if err := safetensors.WriteFile(extra, []safetensors.Tensor{{Name: "unused.weight", DType: safetensors.U8, Shape: []int{len(unused)}, Data: unused}}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Open(extra)
	if err != nil {
		t.Fatal(err)
	}
	held := f.Held()
	f.Close()
	st, err := os.Stat(extra)
	if err != nil {
		t.Fatal(err)
	}
	want := bound
	if held {
		want += (st.Size() + 2<<20 - 1) &^ (2<<20 - 1)
	} else {
		testenv.Need(t, runtime.GOOS != "linux", "transparent huge pages, under which Linux holds a file of a huge page or more in memory")
	}
	if m, err = model.Open(context.Background(), dir); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got := m.WeightBytes(); got != bound {
		t.Errorf("WeightBytes %d with an unbound file, want %d", got, bound)
	}
	if got := m.ResidentBytes(); got != want {
		t.Errorf("ResidentBytes %d, want %d (held: %v)", got, want, held)
	}
}
