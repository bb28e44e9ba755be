package qwenvit

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Config is a Qwen2_5_VLVisionConfig: config.json's vision_config.
type Config struct {
	Depth         int    `json:"depth"`
	Hidden        int    `json:"hidden_size"`
	Inter         int    `json:"intermediate_size"`
	Heads         int    `json:"num_heads"`
	Channels      int    `json:"in_channels"`
	Patch         int    `json:"patch_size"`
	TemporalPatch int    `json:"temporal_patch_size"`
	Merge         int    `json:"spatial_merge_size"`
	Window        int    `json:"window_size"`
	FullAtt       []int  `json:"fullatt_block_indexes"`
	OutHidden     int    `json:"out_hidden_size"`
	Act           string `json:"hidden_act"`
	// Qwen2VL is Qwen2-VL's tower (Qwen2VisionTransformerPretrainedModel):
	// LayerNorms with biases, an fc1–QuickGELU–fc2 MLP, no windows (every
	// block attends over each frame), a LayerNorm before the merger.
	Qwen2VL bool `json:"-"`
}

// defaults are Qwen2_5_VLVisionConfig's __init__ defaults, for the keys a
// vision_config leaves out.
func defaults() Config {
	return Config{Depth: 32, Hidden: 3584, Inter: 3420, Heads: 16, Channels: 3, Patch: 14, TemporalPatch: 2, Merge: 2,
		Window: 112, FullAtt: []int{7, 15, 23, 31}, OutHidden: 3584, Act: "silu"}
}

// ParseConfig reads a vision_config (Qwen2.5-VL checkpoints also write
// in_chans, the same as in_channels) over the class's defaults and checks
// it.
func ParseConfig(raw json.RawMessage) (Config, error) {
	c := defaults()
	if len(raw) > 0 && string(raw) != "null" {
		var probe struct {
			InChans  *int `json:"in_chans"`
			Channels *int `json:"in_channels"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return Config{}, fmt.Errorf("vision_config: %w", err)
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return Config{}, fmt.Errorf("vision_config: %w", err)
		}
		if probe.Channels == nil && probe.InChans != nil {
			c.Channels = *probe.InChans
		}
	}
	if err := c.Check(); err != nil {
		return Config{}, fmt.Errorf("vision_config: %w", err)
	}
	return c, nil
}

// ParseQwen2VLConfig reads the vision_config of a Qwen2VLConfig over
// Qwen2VLVisionConfig's defaults: the tower's width is embed_dim, its
// output hidden_size, the MLP embed_dim·mlp_ratio wide.
func ParseQwen2VLConfig(raw json.RawMessage) (Config, error) {
	v := struct {
		Depth         int     `json:"depth"`
		Embed         int     `json:"embed_dim"`
		Hidden        int     `json:"hidden_size"`
		Act           string  `json:"hidden_act"`
		Ratio         float64 `json:"mlp_ratio"`
		Heads         int     `json:"num_heads"`
		Channels      int     `json:"in_channels"`
		InChans       *int    `json:"in_chans"`
		Patch         int     `json:"patch_size"`
		Merge         int     `json:"spatial_merge_size"`
		TemporalPatch int     `json:"temporal_patch_size"`
	}{Depth: 32, Embed: 1280, Hidden: 3584, Act: "quick_gelu", Ratio: 4, Heads: 16, Channels: 3, Patch: 14, Merge: 2, TemporalPatch: 2}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &v); err != nil {
			return Config{}, fmt.Errorf("vision_config: %w", err)
		}
	}
	if v.InChans != nil && !strings.Contains(string(raw), `"in_channels"`) {
		v.Channels = *v.InChans
	}
	c := Config{Depth: v.Depth, Hidden: v.Embed, Inter: int(float64(v.Embed) * v.Ratio), Heads: v.Heads, Channels: v.Channels,
		Patch: v.Patch, TemporalPatch: v.TemporalPatch, Merge: v.Merge, OutHidden: v.Hidden, Act: v.Act, Qwen2VL: true}
	if err := c.Check(); err != nil {
		return Config{}, fmt.Errorf("vision_config: %w", err)
	}
	return c, nil
}

// Check rejects settings the tower cannot run, naming the key.
func (c *Config) Check() error {
	acts := []string{"silu", "gelu_pytorch_tanh"}
	if c.Qwen2VL {
		acts = []string{"quick_gelu", "gelu", "gelu_pytorch_tanh", "silu"}
	}
	switch {
	case !slices.Contains(acts, c.Act):
		return fmt.Errorf("hidden_act %q is not supported (%s are)", c.Act, strings.Join(acts, ", "))
	case c.Depth <= 0 || c.Depth > 1<<10 || c.Hidden <= 0 || c.Inter <= 0 || c.OutHidden <= 0:
		return fmt.Errorf("depth %d, hidden_size %d, intermediate_size %d, out_hidden_size %d", c.Depth, c.Hidden, c.Inter, c.OutHidden)
	case c.Heads <= 0 || c.Hidden%c.Heads != 0 || c.Hidden/c.Heads%4 != 0:
		// The rotary angles are a quarter of a head for rows, a quarter for columns.
		return fmt.Errorf("hidden_size %d over %d heads: want heads of a multiple of 4", c.Hidden, c.Heads)
	case c.Channels <= 0 || c.Channels > 4:
		return fmt.Errorf("in_channels %d", c.Channels)
	case c.Patch <= 0 || c.Patch > 64 || c.TemporalPatch <= 0 || c.TemporalPatch > 8 || c.Merge <= 0 || c.Merge > 8:
		return fmt.Errorf("patch_size %d, temporal_patch_size %d, spatial_merge_size %d", c.Patch, c.TemporalPatch, c.Merge)
	case !c.Qwen2VL && c.Window/c.Merge/c.Patch <= 0:
		return fmt.Errorf("window_size %d is smaller than a merged block of %d pixels", c.Window, c.Merge*c.Patch)
	}
	for _, l := range c.FullAtt {
		if l < 0 || l >= c.Depth {
			return fmt.Errorf("fullatt_block_indexes %v outside the %d blocks", c.FullAtt, c.Depth)
		}
	}
	return nil
}

// full reports whether block l attends over the whole image.
func (c *Config) full(l int) bool { return c.Qwen2VL || slices.Contains(c.FullAtt, l) }

// PatchValues is the number of pixel values of one patch: the input of
// the patch embedding.
func (c *Config) PatchValues() int { return c.Channels * c.TemporalPatch * c.Patch * c.Patch }
