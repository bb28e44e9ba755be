// Package config builds the daemon's one Config value: flags override environment
// variables (MLX_MANAGER_<NAME>), which override defaults. It is the only package that
// reads the environment, including HF_ENDPOINT, HF_TOKEN, HF_HOME and HF_HUB_CACHE.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultAddr is where the daemon listens unless told otherwise.
const DefaultAddr = "127.0.0.1:10242"

// Config is the effective configuration of one run.
type Config struct {
	Addr        string // HOST:PORT to listen on
	DataDir     string // database, secrets, logs
	ModelsDir   string // Hugging Face hub cache root
	Headless    bool   // no tray even where one could be shown
	NoOpen      bool   // do not open the browser at start
	AllowRemote bool   // permit a non-loopback Addr
	AllowHosts  []string
	LogLevel    slog.Level
	LogFormat   string // "text" or "json": how stderr's log lines are written

	JWTSecret  Secret // from MLX_MANAGER_JWT_SECRET; empty = generated and kept in DataDir
	HFEndpoint string
	HFToken    Secret
	Executor   string // "cpu", "gomlx" or "" (auto)
	KVCache    string // the cpu executor's KV cache: "f16", "f32" or "" (f16 with SIMD kernels, else f32)
	// Activations is the input precision of the cpu executor's Q8/Q4 products:
	// "int16", "f32" or "" (int16 where the kernel set has integer kernels).
	Activations string
	// PrefillActivations is the input precision of the cpu executor's
	// prompt products: "bf16" or "" (BF16 weights take bfloat16 inputs where
	// the CPU has AVX512_BF16, next-token KL ≤ 3e-5 nats measured), "f32"
	// (no lower-precision prefill input: as Activations) or "int8" (bf16's,
	// and 4-bit weights take int8 inputs where the kernels have them,
	// next-token KL ~1e-3 nats).
	PrefillActivations string
	// Parallel is how many requests each loaded model decodes together (its
	// slots); 0: 4. PrefillChunk is how many prompt tokens a step prefills
	// beside them; 0: 128.
	Parallel     int
	PrefillChunk int
}

// Secret is a string that never appears in logs.
type Secret string

// LogValue implements slog.LogValuer so a Secret is never printed.
func (s Secret) LogValue() slog.Value {
	if s == "" {
		return slog.StringValue("")
	}
	return slog.StringValue("[redacted]")
}

// Env is how the environment is read; tests pass a map-backed function.
type Env func(key string) (string, bool)

// Parse reads flags from args over the environment over the defaults. It returns
// flag.ErrHelp when -h was asked for.
func Parse(name string, args []string, env Env, out io.Writer) (*Config, error) {
	if env == nil {
		env = os.LookupEnv
	}
	home, _ := os.UserHomeDir()
	c := &Config{
		Addr:      DefaultAddr,
		DataDir:   filepath.Join(home, ".mlx-manager"),
		ModelsDir: hubCacheDir(env, home),
		LogLevel:  slog.LevelInfo,
		LogFormat: "text",
	}
	envStr := func(key string, dst *string) {
		if v, ok := env("MLX_MANAGER_" + key); ok && v != "" {
			*dst = v
		}
	}
	var envErr error
	envBool := func(key string, dst *bool) {
		if v, ok := env("MLX_MANAGER_" + key); ok && v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				envErr = errors.Join(envErr, fmt.Errorf("MLX_MANAGER_%s=%q: not a boolean", key, v))
				return
			}
			*dst = b
		}
	}
	envStr("ADDR", &c.Addr)
	envStr("DATA_DIR", &c.DataDir)
	envStr("MODELS_DIR", &c.ModelsDir)
	envStr("EXECUTOR", &c.Executor)
	envStr("KV_CACHE", &c.KVCache)
	envStr("ACTIVATIONS", &c.Activations)
	envStr("PREFILL_ACTIVATIONS", &c.PrefillActivations)
	envStr("LOG_FORMAT", &c.LogFormat)
	envInt := func(key string, dst *int) {
		if v, ok := env("MLX_MANAGER_" + key); ok && v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				envErr = errors.Join(envErr, fmt.Errorf("MLX_MANAGER_%s=%q: not an integer", key, v))
				return
			}
			*dst = n
		}
	}
	envInt("PARALLEL", &c.Parallel)
	envInt("PREFILL_CHUNK", &c.PrefillChunk)
	envBool("HEADLESS", &c.Headless)
	envBool("NO_OPEN", &c.NoOpen)
	envBool("ALLOW_REMOTE", &c.AllowRemote)
	var hosts, level string
	envStr("ALLOW_HOSTS", &hosts)
	envStr("LOG_LEVEL", &level)
	if v, ok := env("MLX_MANAGER_JWT_SECRET"); ok {
		c.JWTSecret = Secret(v)
	}
	if v, ok := env("HF_ENDPOINT"); ok && v != "" {
		c.HFEndpoint = strings.TrimRight(v, "/")
	}
	if v, ok := env("HF_TOKEN"); ok {
		c.HFToken = Secret(v)
	}
	if envErr != nil {
		return nil, envErr
	}

	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address HOST:PORT (env MLX_MANAGER_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "data directory (env MLX_MANAGER_DATA_DIR)")
	fs.StringVar(&c.ModelsDir, "models-dir", c.ModelsDir, "models directory in Hugging Face cache layout (env MLX_MANAGER_MODELS_DIR)")
	fs.BoolVar(&c.Headless, "headless", c.Headless, "run without the menu-bar icon (env MLX_MANAGER_HEADLESS)")
	fs.BoolVar(&c.NoOpen, "no-open", c.NoOpen, "do not open the browser at start (env MLX_MANAGER_NO_OPEN)")
	fs.BoolVar(&c.AllowRemote, "allow-remote", c.AllowRemote, "allow a non-loopback --addr (env MLX_MANAGER_ALLOW_REMOTE)")
	fs.StringVar(&hosts, "allow-hosts", hosts, "extra Host header names accepted, comma-separated (env MLX_MANAGER_ALLOW_HOSTS)")
	fs.StringVar(&level, "log-level", level, "debug, info, warn or error (env MLX_MANAGER_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json: the format of the log lines on stderr (env MLX_MANAGER_LOG_FORMAT)")
	fs.StringVar(&c.Executor, "executor", c.Executor, "inference executor: cpu or gomlx (env MLX_MANAGER_EXECUTOR; default cpu)")
	fs.StringVar(&c.KVCache, "kv-cache", c.KVCache, "KV cache precision of the cpu executor: f16 or f32 (env MLX_MANAGER_KV_CACHE; default f16 with SIMD kernels)")
	fs.StringVar(&c.Activations, "activations", c.Activations, "input precision of Q8/Q4 products in the cpu executor, decode and prefill alike: int16 (faster) or f32 (exact) (env MLX_MANAGER_ACTIVATIONS; default int16 where the kernels have it)")
	fs.StringVar(&c.PrefillActivations, "prefill-activations", c.PrefillActivations, PrefillActivationsUsage+" (env MLX_MANAGER_PREFILL_ACTIVATIONS)")
	fs.IntVar(&c.Parallel, "parallel", c.Parallel, "requests each loaded model decodes together, shared between users; more wait, admitted in turn by user (env MLX_MANAGER_PARALLEL; default 4)")
	fs.IntVar(&c.PrefillChunk, "prefill-chunk", c.PrefillChunk, "prompt tokens prefilled per step beside the running requests (env MLX_MANAGER_PREFILL_CHUNK; default 128)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, &FlagError{Err: err, FlagSet: fs}
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	for _, h := range strings.Split(hosts, ",") {
		if h = strings.TrimSpace(strings.ToLower(h)); h != "" {
			c.AllowHosts = append(c.AllowHosts, h)
		}
	}
	if level != "" {
		if err := c.LogLevel.UnmarshalText([]byte(level)); err != nil {
			return nil, fmt.Errorf("log level %q: %w", level, err)
		}
	}
	return c, c.Validate()
}

// FlagError is a flag the flag package rejected and has already printed, with
// the flags' usage, to Parse's out.
type FlagError struct {
	Err     error
	FlagSet *flag.FlagSet // to suggest the flag that was meant
}

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// ModelsDir is the models dir before flags: MLX_MANAGER_MODELS_DIR, else the
// Hugging Face cache. The CLI subcommands use it for their --models-dir default.
func ModelsDir(env Env) string {
	if env == nil {
		env = os.LookupEnv
	}
	if v, ok := env("MLX_MANAGER_MODELS_DIR"); ok && v != "" {
		return v
	}
	home, _ := os.UserHomeDir()
	return hubCacheDir(env, home)
}

// hubCacheDir follows huggingface_hub: HF_HUB_CACHE, else $HF_HOME/hub, else
// ~/.cache/huggingface/hub, so models other tools downloaded are found.
func hubCacheDir(env Env, home string) string {
	if v, ok := env("HF_HUB_CACHE"); ok && v != "" {
		return v
	}
	if v, ok := env("HF_HOME"); ok && v != "" {
		return filepath.Join(v, "hub")
	}
	return filepath.Join(home, ".cache", "huggingface", "hub")
}

// Validate checks the configuration once, before anything starts.
func (c *Config) Validate() error {
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("addr %q: %w", c.Addr, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("addr %q: bad port", c.Addr)
	}
	if !IsLoopbackHost(host) && !c.AllowRemote {
		return fmt.Errorf("addr %q is not a loopback address: pass --allow-remote to listen on the network", c.Addr)
	}
	if c.DataDir == "" {
		return errors.New("data dir is empty")
	}
	if c.ModelsDir == "" {
		return errors.New("models dir is empty")
	}
	switch c.Executor {
	case "", "cpu", "gomlx":
	default:
		return fmt.Errorf("executor %q: want cpu or gomlx", c.Executor)
	}
	switch c.LogFormat {
	case "", "text", "json":
	default:
		return fmt.Errorf("log format %q: want text or json", c.LogFormat)
	}
	if err := CheckPrecision(c.KVCache, c.Activations, c.PrefillActivations); err != nil {
		return err
	}
	if c.Parallel < 0 || c.Parallel > MaxParallel {
		return fmt.Errorf("parallel %d: want 1 to %d (0: the default, 4)", c.Parallel, MaxParallel)
	}
	if c.PrefillChunk < 0 || c.PrefillChunk > MaxPrefillChunk {
		return fmt.Errorf("prefill chunk %d: want 1 to %d (0: the default, 128)", c.PrefillChunk, MaxPrefillChunk)
	}
	return nil
}

// CheckPrecision checks what the CPU executor may round, each "" for its
// default: the daemon's settings and the CLI commands' flags alike.
func CheckPrecision(kv, activations, prefill string) error {
	switch kv {
	case "", "f16", "f32":
	default:
		return fmt.Errorf("kv cache %q: want f16 or f32", kv)
	}
	switch activations {
	case "", "int16", "f32":
	default:
		return fmt.Errorf("activations %q: want int16 or f32", activations)
	}
	switch prefill {
	case "", "bf16", "f32", "int8":
	default:
		return fmt.Errorf("prefill activations %q: want bf16, f32 or int8", prefill)
	}
	return nil
}

// Bounds of the serving settings: past them a step's batch outgrows any
// machine this daemon runs on.
const (
	MaxParallel     = 64
	MaxPrefillChunk = 8192
)

// orInt is n for LogAttrs, or its default in words when n is 0.
func orInt(n int, def string) any {
	if n == 0 {
		return def + " (default)"
	}
	return n
}

// IsLoopbackHost reports whether host (a name or an address, no port) is this machine only.
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil && ip.IsLoopback()
}

// LogAttrs is the one log line describing the effective configuration.
func (c *Config) LogAttrs() []any {
	// Every field has a value: an empty one says "default" in words, so the
	// line reads the same whether or not a flag was given.
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	set := func(s Secret, def string) any {
		if s == "" {
			return def
		}
		return s
	}
	return []any{
		"addr", c.Addr, "data_dir", c.DataDir, "models_dir", c.ModelsDir,
		"headless", c.Headless, "log_format", or(c.LogFormat, "text"), "allow_remote", c.AllowRemote, "executor", or(c.Executor, "cpu"),
		"kv_cache", or(c.KVCache, "auto"), "activations", or(c.Activations, "auto"), "parallel", orInt(c.Parallel, "4"), "prefill_chunk", orInt(c.PrefillChunk, "128"), "hf_endpoint", or(c.HFEndpoint, "https://huggingface.co"),
		"hf_token", set(c.HFToken, "none"), "jwt_secret", set(c.JWTSecret, "from data dir"),
	}
}

// Client is where the CLI commands that drive the daemon look for it before
// their flags: the data dir holding the daemon's record, an address the user
// named (MLX_MANAGER_HOST, as OLLAMA_HOST; empty: the record's) and an API key
// for a daemon the record does not describe.
type Client struct {
	DataDir string
	Addr    string
	APIKey  Secret
}

// ClientDefaults reads the Client fields from the environment.
func ClientDefaults(env Env) Client {
	if env == nil {
		env = os.LookupEnv
	}
	home, _ := os.UserHomeDir()
	c := Client{DataDir: filepath.Join(home, ".mlx-manager")}
	if v, ok := env("MLX_MANAGER_DATA_DIR"); ok && v != "" {
		c.DataDir = v
	}
	if v, ok := env("MLX_MANAGER_HOST"); ok && v != "" {
		c.Addr = v
	}
	if v, ok := env("MLX_MANAGER_API_KEY"); ok {
		c.APIKey = Secret(v)
	}
	return c
}

// PrefillActivationsUsage documents --prefill-activations (serve and bench).
const PrefillActivationsUsage = "input precision of prompt products in the cpu executor: " +
	"bf16 (BF16 weights take bfloat16 inputs for AVX512_BF16's dot products where the CPU has them: " +
	"faster prefill, next-token KL ≤ 3e-5 nats measured), " +
	"f32 (no lower-precision prefill input: as --activations, int16 or float) or int8 (as bf16, and 4-bit weights " +
	"take int8 inputs for byte multiply-adds where the kernels have them: next-token KL ~1e-3 nats); default bf16"
