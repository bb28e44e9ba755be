package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mlx-manager/mlx-manager/app/config"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/engine/bench"
	"github.com/mlx-manager/mlx-manager/engine/cpu/kern"
	"github.com/mlx-manager/mlx-manager/engine/model"
)

// positional splits flags from positional arguments wherever they appear, so
// `run MODEL "prompt" --max-tokens 5` works like `run --max-tokens 5 MODEL "prompt"`.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// activationsUsage documents --activations wherever it is a flag.
const activationsUsage = "input precision of Q8/Q4 products in the cpu executor, decode and prefill alike: int16 (integer kernels, faster) or f32 (exact); default int16 where the kernels have it"

// checkModelPath turns a model argument that names a missing folder into a
// sentence before any work starts; repo ids are left to the engine.
func checkModelPath(arg string) error {
	if !filepath.IsAbs(arg) && !strings.HasPrefix(arg, ".") && !strings.HasPrefix(arg, "~") && strings.Count(arg, "/") == 1 {
		return nil // org/name: a repo id in the models dir
	}
	st, err := os.Stat(arg)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("there is no model folder at %s; give a folder that holds config.json, or a Hugging Face repo id (org/name) from the models dir", arg)
	case err != nil:
		return fmt.Errorf("cannot read the model folder %s: %w", arg, err)
	case !st.IsDir():
		return fmt.Errorf("%s is a file, not a model folder; give the folder that holds config.json", arg)
	}
	return nil
}

func newCLIEngine(modelsDir, executor string, p precision, stderr io.Writer) (*engine.Engine, error) {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	logKernels(log, kern.Info())
	nr, err := newRunner(executor, p, log)
	if err != nil {
		return nil, err
	}
	return engine.New(engine.Options{ModelsDir: modelsDir, NewRunner: nr, Logger: log, Pool: engine.PoolConfig{}, Folders: true})
}

func runTokenize(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tokenize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelsDir := fs.String("models-dir", config.ModelsDir(nil), "models directory (Hugging Face cache layout)")
	special := fs.Bool("special", false, "match added tokens written in the text, as Hugging Face tokenizers do by default")
	chatMode := fs.Bool("chat", false, "render the text as one user message through the chat template and print the rendered text")
	noBOS := fs.Bool("no-bos", false, "do not add what the tokenizer's post-processor adds (BOS)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return fmt.Errorf("%w: tokenize [flags] MODEL TEXT", errUsage)
	}
	if err := checkModelPath(pos[0]); err != nil {
		return err
	}
	e, err := newCLIEngine(*modelsDir, "cpu", precision{}, stderr)
	if err != nil {
		return err
	}
	defer e.Close()
	if *chatMode {
		text, err := e.RenderChat(ctx, pos[0], []engine.Message{{Role: "user", Content: pos[1]}})
		if err != nil {
			return err
		}
		_, err = io.WriteString(stdout, text)
		return err
	}
	ids, err := e.Tokenize(ctx, pos[0], pos[1], *special, !*noBOS)
	if err != nil {
		return err
	}
	if ids == nil {
		ids = []int32{}
	}
	return json.NewEncoder(stdout).Encode(ids)
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	precisions := fs.String("precision", "", "comma-separated subset of f32,bf16,f16,q8,q4 (default: all)")
	modelDir := fs.String("model", "", "benchmark this model folder instead of generated ones")
	cacheDir := fs.String("cache-dir", "", "where generated benchmark models are kept (default: the user cache dir)")
	runs := fs.Int("runs", 3, "measured runs per model")
	asJSON := fs.Bool("json", false, "print the results as a JSON array")
	executor := fs.String("executor", "cpu", "cpu or gomlx")
	kv := fs.String("kv-cache", "", "KV cache precision of the cpu executor: f16 or f32 (default f16 with SIMD kernels)")
	acts := fs.String("activations", "", activationsUsage)
	prefillActs := fs.String("prefill-activations", "", config.PrefillActivationsUsage)
	moe := fs.Bool("moe", false, "benchmark a generated mixture of experts (1B parameters, 0.25B per token) beside the dense model of its active size")
	conc := fs.String("concurrency", "", "comma-separated numbers of requests at once (e.g. 1,2,4,8): aggregate decode tok/s and TTFT through the scheduler instead of the single-stream figures")
	kernels := fs.String("kernels", "", "kernel set of the cpu executor, to compare sets on one CPU (one of "+strings.Join(kern.Sets(), ", ")+"; default the fastest)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	if *kernels != "" {
		if err := kern.Use(*kernels); err != nil {
			return fmt.Errorf("%w: --kernels: %w", errUsage, err)
		}
	}
	if *moe && *modelDir != "" {
		return fmt.Errorf("%w: --moe generates its models; it cannot be combined with --model", errUsage)
	}
	if *modelDir != "" {
		if err := checkModelPath(*modelDir); err != nil {
			return err
		}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	nr, err := newRunner(*executor, precision{KV: *kv, Activations: *acts, Prefill: *prefillActs}, log)
	if err != nil {
		return err
	}
	logKernels(log, kern.Info())
	if !*asJSON {
		fmt.Fprintf(stdout, "kernels: %s\n", kern.Info())
	}
	opts := bench.Options{ModelDir: *modelDir, CacheDir: *cacheDir, Runs: *runs, JSON: *asJSON, Logger: log,
		NewRunner: func(m *model.Model) (model.Runner, error) { return nr(ctx, m) }}
	if *precisions != "" {
		opts.Precisions = strings.Split(*precisions, ",")
	}
	opts.MoE = *moe
	if *conc != "" {
		levels, perr := parseLevels(*conc)
		if perr != nil {
			return fmt.Errorf("%w: --concurrency: %w", errUsage, perr)
		}
		_, err = bench.RunConcurrency(ctx, opts, levels, stdout)
	} else {
		_, err = bench.Run(ctx, opts, stdout)
	}
	if errors.Is(err, context.Canceled) {
		return errors.New("interrupted")
	}
	return err
}

// parseLevels reads --concurrency's list, "1,2,4,8".
func parseLevels(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}
