package hfref

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// moeConfig is the sparse part of Qwen3MoeConfig and MixtralConfig.
type moeConfig struct {
	experts, topK, inter int
	normTopK             bool
	sparse               []bool    // per layer: Qwen3MoeSparseMoeBlock (true) or Qwen3MoeMLP
	block                string    // "mlp." or "block_sparse_moe."
	names                [3]string // an expert's gate, up and down modules
}

// qwen3Moe reads Qwen3MoeConfig (configuration_qwen3_moe.py defaults):
// Qwen3's attention with q_norm and k_norm on each head, and
// Qwen3MoeDecoderLayer's rule for which layers are sparse.
func (f *family) qwen3Moe(c cfg) error {
	if err := f.llamaLike(c, 10000, 1e-6); err != nil {
		return err
	}
	if c.bool("use_sliding_window", false) {
		return fmt.Errorf("use_sliding_window is not implemented here")
	}
	m := &f.moe
	m.experts = c.int("num_experts", 128)
	m.topK = c.int("num_experts_per_tok", 8)
	m.inter = c.int("moe_intermediate_size", 768)
	m.normTopK = c.bool("norm_topk_prob", false)
	m.block, m.names = "mlp.", [3]string{"gate_proj", "up_proj", "down_proj"}
	step := c.int("decoder_sparse_step", 1)
	if step <= 0 {
		return fmt.Errorf("decoder_sparse_step %d", step)
	}
	var only []int
	for _, v := range c.floats("mlp_only_layers") {
		only = append(only, int(v))
	}
	m.sparse = make([]bool, f.layers)
	for l := range m.sparse {
		m.sparse[l] = !slices.Contains(only, l) && m.experts > 0 && (l+1)%step == 0
	}
	return nil
}

// mixtral reads MixtralConfig: every layer is a MixtralSparseMoeBlock whose
// experts (MixtralBlockSparseTop2MLP: w2(act(w1 x) * w3 x)) are
// intermediate_size wide, top-k weights always renormalised, and
// MistralAttention's sliding window on every layer when set.
func (f *family) mixtral(c cfg) error {
	if err := f.llamaLike(c, 1e6, 1e-5); err != nil {
		return err
	}
	m := &f.moe
	m.experts = c.int("num_local_experts", 8)
	m.topK = c.int("num_experts_per_tok", 2)
	m.inter = f.inter
	m.normTopK = true
	m.block, m.names = "block_sparse_moe.", [3]string{"w1", "w3", "w2"}
	m.sparse = make([]bool, f.layers)
	for l := range m.sparse {
		m.sparse[l] = true
	}
	if w := c.int("sliding_window", 0); w > 0 {
		f.window = w
		for l := range f.slidingLayer {
			f.slidingLayer[l] = true
		}
	}
	return nil
}

// sparseMLP is Qwen3MoeSparseMoeBlock.forward (MixtralSparseMoeBlock with
// normTopK): router logits, softmax over all experts, torch.topk of the
// probabilities (sorted, ties to the lower index), optional renormalisation,
// and each token's selected experts' MLPs summed with their weights.
func (m *run) sparseMLP(p string, x [][]float64) [][]float64 {
	f, e := m.f, &m.f.moe
	b := p + e.block
	logits := m.linear(b+"gate", x, e.experts, f.hidden, false)
	out := make([][]float64, len(x))
	for t := range x {
		probs := softmaxOf(logits[t])
		order := make([]int, e.experts)
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(i, j int) bool { return probs[order[i]] > probs[order[j]] })
		top := order[:e.topK]
		var sum float64
		for _, i := range top {
			sum += probs[i]
		}
		out[t] = make([]float64, f.hidden)
		for _, i := range top {
			w := probs[i]
			if e.normTopK {
				w /= sum
			}
			pe := fmt.Sprintf("%sexperts.%d.", b, i)
			y := m.glu(pe+e.names[0], pe+e.names[1], pe+e.names[2], x[t:t+1], e.inter)
			for j, v := range y[0] {
				out[t][j] += w * v
			}
		}
	}
	return out
}

// glu is down(act(gate x) * up x) over rows x, with f.act.
func (m *run) glu(gate, up, down string, x [][]float64, inter int) [][]float64 {
	f := m.f
	g := m.linear(gate, x, inter, f.hidden, false)
	u := m.linear(up, x, inter, f.hidden, false)
	for t := range g {
		for i := range g[t] {
			a, err := act(f.act, g[t][i])
			if err != nil {
				m.fail(err)
			}
			g[t][i] = a * u[t][i]
		}
	}
	return m.linear(down, g, f.hidden, inter, false)
}

func softmaxOf(x []float64) []float64 {
	mx := x[0]
	for _, v := range x {
		mx = max(mx, v)
	}
	out := make([]float64, len(x))
	var sum float64
	for i, v := range x {
		out[i] = math.Exp(v - mx)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// unstack splits mlx-lm's stacked experts (SwitchGLU's switch_mlp.{gate,up,down}_proj,
// (experts, out, in)) into the per-expert tensors transformers names, the
// inverse of mlx-lm's sanitize: experts.N.{gate,up,down}_proj, or Mixtral's
// experts.N.{w1,w3,w2}. Other tensors pass through.
func unstack(name string, t Tensor, w Tensors) bool {
	i := strings.Index(name, "switch_mlp.")
	if i < 0 || len(t.Shape) != 3 {
		return false
	}
	proj := strings.TrimSuffix(name[i+len("switch_mlp."):], ".weight")
	if strings.Contains(name, "block_sparse_moe.") {
		proj = map[string]string{"gate_proj": "w1", "up_proj": "w3", "down_proj": "w2"}[proj]
	}
	n, per := t.Shape[0], t.Shape[1]*t.Shape[2]
	for e := range n {
		w[fmt.Sprintf("%sexperts.%d.%s.weight", name[:i], e, proj)] = Tensor{
			Shape: []int{t.Shape[1], t.Shape[2]}, Data: t.Data[e*per : (e+1)*per]}
	}
	return true
}
