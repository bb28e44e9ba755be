package config

import (
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
)

func envMap(m map[string]string) Env {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestParsePrecedence(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want func(t *testing.T, c *Config)
	}{
		{"defaults", nil, nil, func(t *testing.T, c *Config) {
			if c.Addr != DefaultAddr {
				t.Errorf("addr = %q, want %q", c.Addr, DefaultAddr)
			}
			if !strings.HasSuffix(c.DataDir, ".mlx-manager") {
				t.Errorf("data dir = %q", c.DataDir)
			}
			if !strings.HasSuffix(c.ModelsDir, filepath.Join(".cache", "huggingface", "hub")) {
				t.Errorf("models dir = %q", c.ModelsDir)
			}
		}},
		{"env overrides defaults", map[string]string{"MLX_MANAGER_ADDR": "127.0.0.1:1", "MLX_MANAGER_HEADLESS": "true", "MLX_MANAGER_DATA_DIR": "/d"}, nil,
			func(t *testing.T, c *Config) {
				if c.Addr != "127.0.0.1:1" || !c.Headless || c.DataDir != "/d" {
					t.Errorf("got %+v", c)
				}
			}},
		{"flags override env", map[string]string{"MLX_MANAGER_ADDR": "127.0.0.1:1"}, []string{"--addr", "localhost:2", "--no-open"},
			func(t *testing.T, c *Config) {
				if c.Addr != "localhost:2" || !c.NoOpen {
					t.Errorf("got %+v", c)
				}
			}},
		{"prefill activations from env", map[string]string{"MLX_MANAGER_PREFILL_ACTIVATIONS": "int8"}, nil,
			func(t *testing.T, c *Config) {
				if c.PrefillActivations != "int8" {
					t.Errorf("prefill activations = %q, want int8", c.PrefillActivations)
				}
			}},
		{"prefill activations bf16 from flag", nil, []string{"--prefill-activations", "bf16"},
			func(t *testing.T, c *Config) {
				if c.PrefillActivations != "bf16" {
					t.Errorf("prefill activations = %q, want bf16", c.PrefillActivations)
				}
			}},
		{"kv cache from env, flag wins", map[string]string{"MLX_MANAGER_KV_CACHE": "f16"}, []string{"--kv-cache", "f32"},
			func(t *testing.T, c *Config) {
				if c.KVCache != "f32" {
					t.Errorf("kv cache = %q, want f32", c.KVCache)
				}
			}},
		{"parallel and prefill chunk from env, flag wins", map[string]string{"MLX_MANAGER_PARALLEL": "8", "MLX_MANAGER_PREFILL_CHUNK": "64"}, []string{"--parallel", "2"},
			func(t *testing.T, c *Config) {
				if c.Parallel != 2 || c.PrefillChunk != 64 {
					t.Errorf("parallel %d, prefill chunk %d", c.Parallel, c.PrefillChunk)
				}
			}},
		{"HF_HUB_CACHE first", map[string]string{"HF_HUB_CACHE": "/cache", "HF_HOME": "/home"}, nil,
			func(t *testing.T, c *Config) {
				if c.ModelsDir != "/cache" {
					t.Errorf("models dir = %q", c.ModelsDir)
				}
			}},
		{"HF_HOME/hub", map[string]string{"HF_HOME": "/hfhome"}, nil,
			func(t *testing.T, c *Config) {
				if c.ModelsDir != "/hfhome/hub" {
					t.Errorf("models dir = %q", c.ModelsDir)
				}
			}},
		{"hub endpoint and token", map[string]string{"HF_ENDPOINT": "http://127.0.0.1:9/", "HF_TOKEN": "hf_x"}, nil,
			func(t *testing.T, c *Config) {
				if c.HFEndpoint != "http://127.0.0.1:9" || c.HFToken != "hf_x" {
					t.Errorf("got %q %q", c.HFEndpoint, c.HFToken)
				}
			}},
		{"allow hosts", nil, []string{"--allow-hosts", "Box.Local, other"},
			func(t *testing.T, c *Config) {
				if strings.Join(c.AllowHosts, ",") != "box.local,other" {
					t.Errorf("allow hosts = %q", c.AllowHosts)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("serve", tt.args, envMap(tt.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			tt.want(t, c)
		})
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"remote without flag", nil, []string{"--addr", "0.0.0.0:10242"}, "--allow-remote"},
		{"remote address", nil, []string{"--addr", "192.168.1.2:10242"}, "not a loopback"},
		{"bad port", nil, []string{"--addr", "127.0.0.1:99999"}, "bad port"},
		{"no port", nil, []string{"--addr", "127.0.0.1"}, "missing port"},
		{"bad bool env", map[string]string{"MLX_MANAGER_HEADLESS": "maybe"}, nil, "not a boolean"},
		{"stray argument", nil, []string{"extra"}, "unexpected arguments"},
		{"bad executor", nil, []string{"--executor", "gpu"}, "executor"},
		{"bad kv cache", map[string]string{"MLX_MANAGER_KV_CACHE": "f8"}, nil, "kv cache"},
		{"bad prefill activations", nil, []string{"--prefill-activations", "f16"}, "want bf16, f32 or int8"},
		{"bad activations", nil, []string{"--activations", "int8"}, "want int16 or f32"},
		{"bad parallel", nil, []string{"--parallel", "1000"}, "parallel 1000"},
		{"parallel not a number", map[string]string{"MLX_MANAGER_PARALLEL": "four"}, nil, "not an integer"},
		{"negative prefill chunk", nil, []string{"--prefill-chunk", "-1"}, "prefill chunk"},
		{"bad log level", nil, []string{"--log-level", "loud"}, "log level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("serve", tt.args, envMap(tt.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestAllowRemote(t *testing.T) {
	c, err := Parse("serve", []string{"--addr", "0.0.0.0:10242", "--allow-remote"}, envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !c.AllowRemote {
		t.Fatal("allow remote not set")
	}
}

func TestSecretsNotLogged(t *testing.T) {
	c, err := Parse("serve", nil, envMap(map[string]string{"HF_TOKEN": "hf_supersecret", "MLX_MANAGER_JWT_SECRET": "jwtsupersecret"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("config", c.LogAttrs()...)
	if strings.Contains(b.String(), "supersecret") {
		t.Fatalf("secret in log line: %s", b.String())
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.3.2.1": true, "::1": true, "[::1]": true, "localhost": true, "LOCALHOST.": true,
		"app.localhost": true, "0.0.0.0": false, "10.0.0.1": false, "example.com": false, "localhost.evil.com": false,
	} {
		if got := IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestModelsDir(t *testing.T) {
	if got := ModelsDir(envMap(map[string]string{"MLX_MANAGER_MODELS_DIR": "/m", "HF_HUB_CACHE": "/c"})); got != "/m" {
		t.Errorf("MLX_MANAGER_MODELS_DIR first: got %q", got)
	}
	if got := ModelsDir(envMap(map[string]string{"HF_HOME": "/h"})); got != "/h/hub" {
		t.Errorf("HF_HOME/hub: got %q", got)
	}
}
