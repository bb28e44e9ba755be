package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/mlx-manager/mlx-manager/api/ollama"
	"github.com/mlx-manager/mlx-manager/app/config"
	"github.com/mlx-manager/mlx-manager/engine"
	"golang.org/x/term"
)

// runOptions are run's flags.
type runOptions struct {
	modelsDir, executor, kv, acts, keepAlive string
	raw, local, verbose                      bool
	maxTokens                                int
	temperature, topP                        float64
	seed                                     int64
	set                                      map[string]bool // the flags given on the command line
}

// runRun is `run MODEL [PROMPT]`: the running daemon answers when there is
// one (the model stays loaded for the next run, as with ollama run); a model
// folder, --raw, --local or no daemon run the model in this process. Without
// a prompt it reads stdin when stdin is not a terminal, and chats otherwise.
func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o runOptions
	cf := addClientFlags(fs)
	fs.StringVar(&o.modelsDir, "models-dir", config.ModelsDir(nil), "models directory (Hugging Face cache layout), used in this process")
	fs.StringVar(&o.executor, "executor", "cpu", "cpu or gomlx, in this process")
	fs.StringVar(&o.kv, "kv-cache", "", "KV cache precision of the cpu executor in this process: f16 or f32 (default f16 with SIMD kernels)")
	fs.StringVar(&o.acts, "activations", "", activationsUsage)
	fs.BoolVar(&o.raw, "raw", false, "no chat template: continue the prompt as it is (in this process)")
	fs.BoolVar(&o.local, "local", false, "run the model in this process even when a daemon runs")
	fs.BoolVar(&o.verbose, "verbose", false, "print the timings after each answer of a chat")
	fs.StringVar(&o.keepAlive, "keepalive", "", "how long the daemon keeps the model loaded after this run (e.g. 5m, 1h, -1 for ever)")
	fs.IntVar(&o.maxTokens, "max-tokens", 0, "stop after this many tokens (0: up to the context end)")
	fs.Float64Var(&o.temperature, "temperature", 0, "sampling temperature; 0 is greedy (default: greedy in this process, the model's defaults in the daemon)")
	fs.Float64Var(&o.topP, "top-p", 0, "nucleus sampling mass (0: off)")
	fs.Int64Var(&o.seed, "seed", -1, "random seed for reproducible sampling (-1: random)")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return fmt.Errorf("%w: run [flags] MODEL [PROMPT]", errUsage)
	}
	o.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { o.set[f.Name] = true })
	model := pos[0]
	prompt, interactive := "", false
	switch {
	case len(pos) == 2:
		prompt = pos[1]
	case isTerminal(os.Stdin):
		interactive = true
	default:
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return fmt.Errorf("read the prompt from stdin: %w", err)
		}
		if prompt = strings.TrimSpace(string(b)); prompt == "" {
			return fmt.Errorf("%w: run [flags] MODEL PROMPT (stdin was empty)", errUsage)
		}
	}
	if o.raw && interactive {
		return fmt.Errorf("%w: --raw needs a PROMPT", errUsage)
	}

	var send chatFunc
	inProcess := o.local || o.raw || isFolderArg(model)
	if !inProcess {
		c, err := connect(ctx, cf)
		switch {
		case errors.Is(err, errNoDaemon):
			if err := checkModelPath(model); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "no daemon runs (start one with 'mlx-manager serve' to keep models loaded between runs): loading %s in this process\n", model)
			inProcess = true
		case err != nil:
			return err
		default:
			send = daemonChat(c, model, o)
		}
	}
	if inProcess {
		if err := checkModelPath(model); err != nil {
			return err
		}
		e, err := newCLIEngine(o.modelsDir, o.executor, precision{KV: o.kv, Activations: o.acts}, stderr)
		if err != nil {
			return err
		}
		defer e.Close()
		if o.raw {
			return rawComplete(ctx, e, model, prompt, o, stdout, stderr)
		}
		send = engineChat(e, model, o)
	}
	if interactive {
		ints := make(chan os.Signal, 1)
		signal.Notify(ints, os.Interrupt)
		defer signal.Stop(ints)
		return chatLoop(ctx, os.Stdin, stdout, stderr, ints, send, o.verbose)
	}
	// One prompt: Ctrl-C stops the answer, and with it the program.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	_, stats, err := send(ctx, []ollama.Message{{Role: "user", Content: prompt}}, func(s string) error {
		_, err := io.WriteString(stdout, s)
		return err
	})
	fmt.Fprintln(stdout)
	if errors.Is(err, context.Canceled) {
		return errors.New("interrupted")
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, stats)
	return nil
}

// isFolderArg reports a model argument that names a folder rather than a
// name the daemon knows (a repo id, name:tag, a profile): only this process
// runs folders, as the daemon serves its own models dir.
func isFolderArg(arg string) bool {
	if filepath.IsAbs(arg) || strings.HasPrefix(arg, ".") || strings.HasPrefix(arg, "~") || strings.Count(arg, "/") > 1 {
		return true
	}
	st, err := os.Stat(arg)
	return err == nil && st.IsDir() && strings.Count(arg, "/") != 1
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// chatFunc sends a conversation, streams the answer's text to emit and
// returns the whole answer and a line of timings. Two implementations: the
// daemon's /api/chat and an engine in this process.
type chatFunc func(ctx context.Context, msgs []ollama.Message, emit func(string) error) (answer, stats string, err error)

// daemonChat asks the daemon's /api/chat, streamed. Only the sampling flags
// given are sent, so a profile's or the model's defaults apply otherwise.
func daemonChat(c *client, model string, o runOptions) chatFunc {
	opts := map[string]any{}
	if o.set["temperature"] {
		opts["temperature"] = o.temperature
	}
	if o.set["top-p"] {
		opts["top_p"] = o.topP
	}
	if o.seed >= 0 {
		opts["seed"] = o.seed
	}
	if o.maxTokens > 0 {
		opts["num_predict"] = o.maxTokens
	}
	return func(ctx context.Context, msgs []ollama.Message, emit func(string) error) (string, string, error) {
		body := map[string]any{"model": model, "messages": msgs, "stream": true, "options": opts}
		if o.keepAlive != "" {
			body["keep_alive"] = o.keepAlive
		}
		var answer strings.Builder
		var done ollama.ChatResponse
		err := c.stream(ctx, "/api/chat", body, func(line []byte) error {
			var r ollama.ChatResponse
			if err := json.Unmarshal(line, &r); err != nil {
				return fmt.Errorf("read the answer: %w", err)
			}
			answer.WriteString(r.Message.Content)
			if r.Done {
				done = r
			}
			return emit(r.Message.Thinking + r.Message.Content)
		})
		if err != nil {
			return answer.String(), "", err
		}
		return answer.String(), daemonStats(model, done), nil
	}
}

// daemonStats is the timings line of a done record.
func daemonStats(model string, r ollama.ChatResponse) string {
	if r.Metrics == nil {
		return fmt.Sprintf("[%s] finish %s", model, r.DoneReason)
	}
	m := r.Metrics
	rate := 0.0
	if m.EvalDuration > 0 {
		rate = float64(m.EvalCount) / (float64(m.EvalDuration) / 1e9)
	}
	return fmt.Sprintf("[%s] %d prompt + %d generated tokens, finish %s, load %.0f ms, prompt %.0f ms, %.1f tok/s (daemon)",
		model, m.PromptEvalCount, m.EvalCount, r.DoneReason, float64(m.LoadDuration)/1e6, float64(m.PromptEvalDuration)/1e6, rate)
}

// genOptions are the sampling flags for an engine in this process.
func (o runOptions) genOptions() engine.GenOptions {
	opts := engine.GenOptions{MaxTokens: o.maxTokens}
	opts.Sampling.Temperature, opts.Sampling.TopP = o.temperature, o.topP
	if o.seed >= 0 {
		seed := o.seed
		opts.Sampling.Seed = &seed
	}
	return opts
}

// engineChat runs the conversation on an engine in this process.
func engineChat(e *engine.Engine, model string, o runOptions) chatFunc {
	return func(ctx context.Context, msgs []ollama.Message, emit func(string) error) (string, string, error) {
		em := make([]engine.Message, len(msgs))
		for i, m := range msgs {
			em[i] = engine.Message{Role: m.Role, Content: m.Content}
		}
		res, err := e.Chat(ctx, engine.ChatRequest{Model: model, Messages: em, Options: o.genOptions()}, func(d engine.Delta) error {
			return emit(d.Reasoning + d.Content)
		})
		if err != nil {
			return "", "", err
		}
		return res.Content, engineStats(res), nil
	}
}

func engineStats(res *engine.Result) string {
	return fmt.Sprintf("[%s] %d prompt + %d generated tokens, finish %s, ttft %.0f ms, %.1f tok/s (%s)",
		res.Model, res.Usage.PromptTokens, res.Usage.CompletionTokens, res.FinishReason,
		float64(res.TTFT.Microseconds())/1000, res.TokensPerSecond(), res.Backend)
}

// rawComplete continues prompt without a chat template, in this process.
func rawComplete(ctx context.Context, e *engine.Engine, model, prompt string, o runOptions, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt)
	defer stop()
	if _, err := io.WriteString(stdout, prompt); err != nil {
		return err
	}
	res, err := e.Complete(ctx, engine.CompletionRequest{Model: model, Prompt: prompt, Options: o.genOptions()}, func(d engine.Delta) error {
		_, err := io.WriteString(stdout, d.Reasoning+d.Content)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	fmt.Fprintln(stderr, engineStats(res))
	return nil
}
