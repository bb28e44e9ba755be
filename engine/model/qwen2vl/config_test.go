package qwen2vl

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/model"
	"github.com/mlx-manager/mlx-manager/engine/model/qwenvit"
)

// TestRealConfigs parses the config.json of Qwen2.5-VL-3B-Instruct as
// released and Qwen2.5-VL-7B-Instruct as transformers 4.57 saves it
// (testdata/README.md says where each comes from).
func TestRealConfigs(t *testing.T) {
	for _, tc := range []struct {
		file                                         string
		hidden, inter, layers, heads, kvHeads, vocab int
		tied                                         bool
	}{
		{"Qwen2.5-VL-3B-Instruct.config.json", 2048, 11008, 36, 16, 2, 151936, true},
		{"Qwen2.5-VL-7B-Instruct.transformers-4.57.config.json", 3584, 18944, 28, 28, 4, 152064, false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile("testdata/" + tc.file)
			if err != nil {
				t.Fatal(err)
			}
			c, err := model.ParseConfig(b)
			if err != nil {
				t.Fatal(err)
			}
			got := []int{c.HiddenSize, c.IntermediateSize, c.NumHiddenLayers, c.NumAttentionHeads, c.NumKeyValueHeads, c.VocabSize, c.HeadDim}
			want := []int{tc.hidden, tc.inter, tc.layers, tc.heads, tc.kvHeads, tc.vocab, 128}
			if !slices.Equal(got, want) {
				t.Errorf("sizes %v, want %v", got, want)
			}
			if c.TieWordEmbeddings != tc.tied || !c.QKVBias || c.OBias || c.QKNorm || c.SlidingWindow != 0 {
				t.Errorf("tied %v, q/k/v bias %v, o bias %v, q/k norm %v, window %d", c.TieWordEmbeddings, c.QKVBias, c.OBias, c.QKNorm, c.SlidingWindow)
			}
			if c.RopeTheta != 1e6 || c.RMSNormEps != 1e-6 || c.MaxPositionEmbeddings != 128000 || c.TorchDType != "bfloat16" {
				t.Errorf("theta %g, eps %g, max positions %d, dtype %q", c.RopeTheta, c.RMSNormEps, c.MaxPositionEmbeddings, c.TorchDType)
			}
			if !slices.Equal(c.EOSTokenIDs, []int{151645}) {
				t.Errorf("eos %v", c.EOSTokenIDs)
			}
			f := c.Family.(*Family)
			if f.Sections != [3]int{16, 24, 24} || f.ImageToken != 151655 || f.VisionStart != 151652 || f.VisionEnd != 151653 {
				t.Errorf("family %+v", f)
			}
			if c.RopeScaling == nil || c.RopeScaling.Type != "mrope" || !slices.Equal(c.RopeScaling.MRoPESection, []int{16, 24, 24}) {
				t.Errorf("rope scaling %+v", c.RopeScaling)
			}
			vc, err := qwenvit.ParseConfig(f.Vision)
			if err != nil || vc.OutHidden != tc.hidden || vc.Merge != 2 || vc.Patch != 14 {
				t.Errorf("vision_config %+v, %v: want the tower's, out_hidden_size %d", vc, err, tc.hidden)
			}
		})
	}
}

// TestRejected: settings the text model does not implement are refused
// with the key they come from.
func TestRejected(t *testing.T) {
	b, err := os.ReadFile("testdata/Qwen2.5-VL-3B-Instruct.config.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, key string
		value     any
		want      string
	}{
		{"no sections", "rope_scaling", map[string]any{"type": "default"}, "mrope_section"},
		{"sections of another head", "rope_scaling", map[string]any{"type": "mrope", "mrope_section": []int{16, 24, 16}}, "head_dim/2"},
		{"yarn", "rope_scaling", map[string]any{"type": "yarn", "mrope_section": []int{16, 24, 24}, "factor": 4, "original_max_position_embeddings": 32768}, "yarn"},
		{"sliding window", "use_sliding_window", true, "use_sliding_window"},
		{"activation", "hidden_act", "gelu", "hidden_act"},
		{"image token", "image_token_id", 200000, "image token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			m[tc.key] = tc.value
			js, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			_, err = model.ParseConfig(js)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
}
