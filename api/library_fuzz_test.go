package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"github.com/mlx-manager/mlx-manager/engine"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/pool"
	"github.com/mlx-manager/mlx-manager/store"
)

// FuzzConfigView reads config.json bytes as the Hub may serve them: whatever
// they hold, describing them must not panic, and a model the engine calls
// supported must get a positive memory estimate.
func FuzzConfigView(f *testing.F) {
	for _, s := range []string{
		`{"architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":512,"max_position_embeddings":256}`,
		`{"architectures":["Qwen3ForCausalLM"],"hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"head_dim":16,"vocab_size":512,"quantization":{"group_size":32,"bits":4}}`,
		`{"architectures":["Gemma3ForConditionalGeneration"],"text_config":{"hidden_size":8,"num_hidden_layers":1}}`,
		`{"quantization_config":{"bits":"x"}}`,
		`{"hidden_size":-1,"num_hidden_layers":1e9}`,
		`[]`, `null`, ``, `{"architectures":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		v := configView{ID: "org/name"}
		if err := v.fill(raw); err != nil {
			return
		}
		if !v.Supported {
			return
		}
		est, err := engine.EstimateMemory(raw, 1000, 0)
		if err != nil || est <= 1000 {
			t.Fatalf("supported config %s: estimate %d, %v", raw, est, err)
		}
	})
}

// FuzzPoolSettingsBody decodes a settings body like the handler: a body that
// decodes and validates must give a usable pool config, never a panic.
func FuzzPoolSettingsBody(f *testing.F) {
	for _, s := range []string{
		`{"budget":"70%","max_models":2,"default_ttl_seconds":60,"eviction_policy":"lru"}`,
		`{"budget":1073741824}`, `{"budget":null,"default_ttl_seconds":-1}`, `{"budget":"1e2%"}`,
		`{"max_models":1e99}`, `{"budget":"-0%"}`, `{}`,
	} {
		f.Add([]byte(s))
	}
	ram := func() (int64, error) { return 16 << 30, nil }
	f.Fuzz(func(t *testing.T, body []byte) {
		var set store.PoolSettings
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if dec.Decode(&set) != nil || set.Validate() != nil {
			return
		}
		cfg, err := poolConfig(set, pool.Config{}, ram)
		if err != nil {
			t.Fatalf("valid settings %s: %v", body, err)
		}
		if cfg.BudgetBytes < 0 || (set.Budget != nil && set.Budget.Percent > 0 && cfg.BudgetBytes > 16<<30) {
			t.Fatalf("settings %s: budget %d", body, cfg.BudgetBytes)
		}
		if _, err := poolConfig(set, pool.Config{}, func() (int64, error) { return 0, errors.New("unknown") }); err == nil && set.Budget != nil && set.Budget.Percent > 0 {
			t.Fatalf("settings %s: a percentage without the RAM size must fail", body)
		}
	})
}
