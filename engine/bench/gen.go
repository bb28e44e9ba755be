package bench

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/mlx-manager/mlx-manager/engine/cpu/kern"
	"github.com/mlx-manager/mlx-manager/engine/safetensors"
)

// Shape is the architecture of a generated benchmark model: a Llama, or
// with Experts a Mixtral whose TopK of Experts experts, each Intermediate
// wide, run per token (stacked as mlx-lm's switch_mlp).
type Shape struct {
	Hidden, Intermediate, Layers, Heads, KVHeads, Vocab, MaxPos int
	Experts, TopK                                               int
}

// DefaultShape is the ~0.5B-parameter Llama of the reference figures
// (llama.cpp's llama-bench on the same machine): 501M parameters with
// untied embeddings.
var DefaultShape = Shape{Hidden: 1536, Intermediate: 4096, Layers: 16, Heads: 24, KVHeads: 8, Vocab: 32000, MaxPos: 2048}

// MoEShape is the mixture of experts of issue #21's benchmark: about 1B
// parameters, of which a decoded token reads about 0.25B (3 of 16 experts).
var MoEShape = Shape{Hidden: 1024, Intermediate: 1536, Layers: 12, Heads: 16, KVHeads: 4, Vocab: 32000, MaxPos: 2048,
	Experts: 16, TopK: 3}

// Dense is the Llama that reads as many weights per token as the mixture of
// experts s: the same attention, one MLP as wide as its TopK experts.
func (s Shape) Dense() Shape {
	if s.Experts > 0 {
		s.Intermediate *= s.TopK
		s.Experts, s.TopK = 0, 0
	}
	return s
}

// Params is the parameter count (norms included).
func (s Shape) Params() int64 {
	hd := s.Hidden / s.Heads
	h, kv := int64(s.Hidden), int64(s.KVHeads*hd)
	layer := 2*h*h + 2*kv*h + 3*int64(s.Intermediate)*h + 2*h
	if s.Experts > 0 {
		layer = 2*h*h + 2*kv*h + int64(s.Experts)*(3*int64(s.Intermediate)*h+h) + 2*h
	}
	return int64(s.Layers)*layer + 2*int64(s.Vocab)*h + h
}

// Precisions the generator writes, in table order.
var Precisions = []string{"f32", "bf16", "f16", "q8", "q4"}

// genVersion changes whenever generated files would differ, invalidating
// cached models.
const genVersion = 1

// stamp is written last into a generated model directory; a directory whose
// stamp does not match is regenerated.
type stamp struct {
	Version   int    `json:"version"`
	Precision string `json:"precision"`
	Shape     Shape  `json:"shape"`
}

// ensureModel returns the directory of the generated model for precision,
// writing it (deterministically) unless a valid copy is already cached.
func ensureModel(cache, precision string, shape Shape) (dir string, generated bool, err error) {
	if !isPrecision(precision) {
		return "", false, fmt.Errorf("unknown precision %q (want one of %s)", precision, strings.Join(Precisions, ", "))
	}
	dir = filepath.Join(cache, fmt.Sprintf("llama-%dM-%s", shape.Params()/1e6, precision))
	if shape.Experts > 0 {
		dir = filepath.Join(cache, fmt.Sprintf("mixtral-%dM-e%dk%d-%s", shape.Params()/1e6, shape.Experts, shape.TopK, precision))
	}
	want := stamp{Version: genVersion, Precision: precision, Shape: shape}
	if b, err := os.ReadFile(filepath.Join(dir, "bench.json")); err == nil {
		var got stamp
		if json.Unmarshal(b, &got) == nil && got == want {
			return dir, false, nil
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", false, fmt.Errorf("clear %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, fmt.Errorf("create %s: %w", dir, err)
	}
	if err := writeModel(dir, precision, shape); err != nil {
		return "", false, fmt.Errorf("generate %s model: %w", precision, err)
	}
	b, _ := json.Marshal(want)
	if err := os.WriteFile(filepath.Join(dir, "bench.json"), b, 0o644); err != nil {
		return "", false, fmt.Errorf("generate %s model: %w", precision, err)
	}
	return dir, true, nil
}

func isPrecision(p string) bool {
	for _, q := range Precisions {
		if p == q {
			return true
		}
	}
	return false
}

// writeModel writes config.json and the weights, one shard per few layers so
// that at most a few hundred MB are held in memory at once.
func writeModel(dir, precision string, s Shape) error {
	if err := writeConfig(dir, precision, s); err != nil {
		return err
	}
	g := &generator{precision: precision, rng: 0x9e3779b97f4a7c15}
	pool := kern.NewPool(0)
	defer pool.Close()
	g.pool = pool
	const layersPerShard = 4
	shards := 2 + (s.Layers+layersPerShard-1)/layersPerShard
	index := safetensors.Index{Metadata: map[string]any{}, WeightMap: map[string]string{}}
	for i := 0; i < shards; i++ {
		var ts []safetensors.Tensor
		var err error
		switch {
		case i == 0:
			ts, err = g.linear(nil, "model.embed_tokens", s.Vocab, s.Hidden)
		case i == shards-1:
			ts, err = g.linear(nil, "lm_head", s.Vocab, s.Hidden)
			ts = append(ts, g.norm("model.norm.weight", s.Hidden))
		default:
			for l := (i - 1) * layersPerShard; l < min(i*layersPerShard, s.Layers) && err == nil; l++ {
				ts, err = g.layer(ts, l, s)
			}
		}
		if err != nil {
			return err
		}
		name := fmt.Sprintf("model-%05d-of-%05d.safetensors", i+1, shards)
		if err := safetensors.WriteFile(filepath.Join(dir, name), ts, map[string]string{"format": "pt"}); err != nil {
			return err
		}
		for _, t := range ts {
			index.WeightMap[t.Name] = name
		}
	}
	b, err := json.MarshalIndent(index, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, safetensors.IndexFile), b, 0o644)
}

func writeConfig(dir, precision string, s Shape) error {
	torch := map[string]string{"f32": "float32", "bf16": "bfloat16"}[precision]
	if torch == "" {
		torch = "float16"
	}
	c := map[string]any{
		"architectures": []string{"LlamaForCausalLM"}, "model_type": "llama",
		"hidden_size": s.Hidden, "intermediate_size": s.Intermediate,
		"num_hidden_layers": s.Layers, "num_attention_heads": s.Heads, "num_key_value_heads": s.KVHeads,
		"head_dim": s.Hidden / s.Heads, "vocab_size": s.Vocab, "max_position_embeddings": s.MaxPos,
		"rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": false,
		"hidden_act": "silu", "torch_dtype": torch, "bos_token_id": 1, "eos_token_id": 2,
	}
	if bits := quantBits(precision); bits > 0 {
		c["quantization"] = map[string]int{"group_size": 64, "bits": bits}
	}
	if s.Experts > 0 {
		c["architectures"], c["model_type"] = []string{"MixtralForCausalLM"}, "mixtral"
		c["num_local_experts"], c["num_experts_per_tok"] = s.Experts, s.TopK
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644)
}

func quantBits(precision string) int {
	return map[string]int{"q8": 8, "q4": 4}[precision]
}

// generator draws weights from a fast deterministic generator: uniform with
// the standard deviation of HF's initializer_range (0.02), which is all a
// speed benchmark needs.
type generator struct {
	precision string
	rng       uint64
	pool      *kern.Pool
}

func (g *generator) next() uint64 { // splitmix64
	g.rng += 0x9e3779b97f4a7c15
	z := g.rng
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (g *generator) floats(n int) []float32 {
	const amp = 0.02 * 1.7320508 // uniform on [-a, a] has std a/√3
	v := make([]float32, n)
	for i := 0; i < n; i += 2 {
		r := g.next()
		v[i] = (float32(uint32(r))/(1<<32)*2 - 1) * amp
		if i+1 < n {
			v[i+1] = (float32(uint32(r>>32))/(1<<32)*2 - 1) * amp
		}
	}
	return v
}

func (g *generator) layer(ts []safetensors.Tensor, l int, s Shape) ([]safetensors.Tensor, error) {
	p := fmt.Sprintf("model.layers.%d.", l)
	hd := s.Hidden / s.Heads
	ts = append(ts, g.norm(p+"input_layernorm.weight", s.Hidden), g.norm(p+"post_attention_layernorm.weight", s.Hidden))
	var err error
	for _, lin := range []struct {
		name    string
		out, in int
	}{
		{"self_attn.q_proj", s.Heads * hd, s.Hidden}, {"self_attn.k_proj", s.KVHeads * hd, s.Hidden},
		{"self_attn.v_proj", s.KVHeads * hd, s.Hidden}, {"self_attn.o_proj", s.Hidden, s.Heads * hd},
	} {
		if ts, err = g.linear(ts, p+lin.name, lin.out, lin.in); err != nil {
			return nil, err
		}
	}
	if s.Experts > 0 {
		return g.experts(ts, p+"block_sparse_moe.", s)
	}
	for _, lin := range []struct {
		name    string
		out, in int
	}{
		{"mlp.gate_proj", s.Intermediate, s.Hidden}, {"mlp.up_proj", s.Intermediate, s.Hidden},
		{"mlp.down_proj", s.Hidden, s.Intermediate},
	} {
		if ts, err = g.linear(ts, p+lin.name, lin.out, lin.in); err != nil {
			return nil, err
		}
	}
	return ts, nil
}

// experts appends a Mixtral block as mlx-lm saves it: the router (gate) and
// each projection of every expert stacked, (experts, out, in).
func (g *generator) experts(ts []safetensors.Tensor, p string, s Shape) ([]safetensors.Tensor, error) {
	ts, err := g.linear(ts, p+"gate", s.Experts, s.Hidden)
	if err != nil {
		return nil, err
	}
	for _, lin := range []struct {
		name    string
		out, in int
	}{
		{"gate_proj", s.Intermediate, s.Hidden}, {"up_proj", s.Intermediate, s.Hidden}, {"down_proj", s.Hidden, s.Intermediate},
	} {
		n := len(ts)
		if ts, err = g.linear(ts, p+"switch_mlp."+lin.name, s.Experts*lin.out, lin.in); err != nil {
			return nil, err
		}
		// Experts*out rows are the experts one after the other: restore the axis.
		for i := n; i < len(ts); i++ {
			ts[i].Shape = []int{s.Experts, lin.out, ts[i].Shape[1]}
		}
	}
	return ts, nil
}

// norm is a norm weight of ones, in the float dtype of the model.
func (g *generator) norm(name string, n int) safetensors.Tensor {
	ones := make([]float32, n)
	for i := range ones {
		ones[i] = 1
	}
	return g.float(name, []int{n}, ones, g.floatType())
}

func (g *generator) floatType() kern.DType {
	switch g.precision {
	case "f32":
		return kern.F32
	case "bf16":
		return kern.BF16
	}
	return kern.F16
}

func (g *generator) float(name string, shape []int, v []float32, d kern.DType) safetensors.Tensor {
	t := safetensors.Tensor{Name: name, Shape: shape}
	switch d {
	case kern.F32:
		t.DType, t.Data = safetensors.F32, make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(t.Data[4*i:], math.Float32bits(x))
		}
	default:
		t.DType, t.Data = safetensors.F16, make([]byte, 2*len(v))
		conv := kern.F32ToF16
		if d == kern.BF16 {
			t.DType, conv = safetensors.BF16, kern.F32ToBF16
		}
		for i, x := range v {
			binary.LittleEndian.PutUint16(t.Data[2*i:], conv(x))
		}
	}
	return t
}

// linear appends the tensors of one (out, in) layer: name.weight, plus
// name.scales and name.biases when quantized in MLX's layout.
func (g *generator) linear(ts []safetensors.Tensor, name string, out, in int) ([]safetensors.Tensor, error) {
	w := g.floats(out * in)
	bits := quantBits(g.precision)
	if bits == 0 {
		return append(ts, g.float(name+".weight", []int{out, in}, w, g.floatType())), nil
	}
	q, err := kern.Quantize(g.pool, &kern.Mat{DType: kern.F32, Rows: out, Cols: in, F32: w}, bits, 64, kern.F16)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(q.Q)%4 != 0 {
		return nil, errors.New(name + ": codes are not whole uint32 words")
	}
	groups := []int{out, in / 64}
	return append(ts,
		safetensors.Tensor{Name: name + ".weight", DType: safetensors.U32, Shape: []int{out, in * bits / 32}, Data: q.Q},
		g.halves(name+".scales", groups, q.Scales.U16),
		g.halves(name+".biases", groups, q.Biases.U16)), nil
}

func (g *generator) halves(name string, shape []int, v []uint16) safetensors.Tensor {
	b := make([]byte, 2*len(v))
	for i, h := range v {
		binary.LittleEndian.PutUint16(b[2*i:], h)
	}
	return safetensors.Tensor{Name: name, DType: safetensors.F16, Shape: shape, Data: b}
}
