package siglip

import (
	"strings"
	"testing"
)

// TestCheck: the settings the tower cannot run are refused by name, so a
// family's error says which vision_config key is wrong.
func TestCheck(t *testing.T) {
	ok := Config{Hidden: 64, Inter: 128, Layers: 2, Heads: 4, Channels: 3, ImageSize: 16, Patch: 4, Eps: 1e-6, Act: "gelu"}
	if err := ok.Check(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Act = "relu" }, `hidden_act "relu"`},
		{func(c *Config) { c.Layers = 0 }, "sizes 64/128, 0 layers"},
		{func(c *Config) { c.Channels = 5 }, "5 channels"},
		{func(c *Config) { c.Heads = 5 }, "hidden_size 64 over 5 heads"},
	} {
		bad := ok
		c.edit(&bad)
		if err := bad.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", bad, err, c.want)
		}
	}
	if got := (&Config{ImageSize: 384, Patch: 14}).Side(); got != 27 {
		t.Errorf("384 pixels in patches of 14: side %d, want 27 (the last partial patch is not read)", got)
	}
}
