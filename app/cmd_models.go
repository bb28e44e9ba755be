package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mlx-manager/mlx-manager/api/ollama"
	"github.com/mlx-manager/mlx-manager/app/config"
	"github.com/mlx-manager/mlx-manager/engine"
)

// The commands here drive the running daemon through its Ollama API and print
// what `ollama ls`, `ps`, `rm`, `stop` and `show` print. ls, show and rm work
// on the models dir when no daemon runs.

// modelsFlags are the flags of a command that may fall back to the models dir.
func addModelsDirFlag(fs *flag.FlagSet) *string {
	return fs.String("models-dir", config.ModelsDir(nil), "models directory (Hugging Face cache layout), used when no daemon runs")
}

// oneArg parses a command's flags and its single positional argument.
func oneArg(fs *flag.FlagSet, args []string, what string) (string, error) {
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", fmt.Errorf("%w: %s %s", errUsage, fs.Name(), what)
	}
	return pos[0], nil
}

// noArgs parses a command that takes flags only.
func noArgs(fs *flag.FlagSet, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	return nil
}

// writeJSON prints v indented, for --json.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// shortDigest is the ID column of ollama ls and ps.
func shortDigest(d string) string {
	d = strings.TrimPrefix(d, "sha256:")
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

func runList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ls", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addClientFlags(fs)
	modelsDir := addModelsDirFlag(fs)
	asJSON := fs.Bool("json", false, "print the models as a JSON array")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	var models []ollama.ListModel
	c, err := connect(ctx, cf)
	switch {
	case errors.Is(err, errNoDaemon):
		if models, err = localList(ctx, *modelsDir, stderr); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		var list ollama.ListResponse
		if err := c.do(ctx, http.MethodGet, "/api/tags", nil, &list); err != nil {
			return err
		}
		models = list.Models
	}
	if *asJSON {
		if models == nil {
			models = []ollama.ListModel{}
		}
		return writeJSON(stdout, models)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 4, ' ', 0)
	fmt.Fprintln(tw, "NAME\tID\tSIZE\tMODIFIED")
	now := time.Now()
	for _, m := range models {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Name, shortDigest(m.Digest), humanBytes(m.Size), humanTime(m.ModifiedAt, now))
	}
	return tw.Flush()
}

// localList is ls without a daemon: the models dir as /api/tags lists it
// (profiles live in the daemon's database and are not shown).
func localList(ctx context.Context, modelsDir string, stderr io.Writer) ([]ollama.ListModel, error) {
	e, err := newCLIEngine(modelsDir, "cpu", precision{}, stderr)
	if err != nil {
		return nil, err
	}
	defer e.Close()
	infos, err := e.Models(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ollama.ListModel, 0, len(infos))
	for _, m := range infos {
		out = append(out, ollama.ListModelFrom(m, ollama.Digest(m)))
	}
	return out, nil
}

func runPS(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ps", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addClientFlags(fs)
	asJSON := fs.Bool("json", false, "print the loaded models as a JSON array")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	c, err := connect(ctx, cf)
	if errors.Is(err, errNoDaemon) {
		return fmt.Errorf("%w: no model is loaded (start one with 'mlx-manager serve')", err)
	}
	if err != nil {
		return err
	}
	var list ollama.ProcessResponse
	if err := c.do(ctx, http.MethodGet, "/api/ps", nil, &list); err != nil {
		return err
	}
	if *asJSON {
		if list.Models == nil {
			list.Models = []ollama.ProcessModel{}
		}
		return writeJSON(stdout, list.Models)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 4, ' ', 0)
	fmt.Fprintln(tw, "NAME\tID\tSIZE\tPROCESSOR\tCONTEXT\tUNTIL")
	now := time.Now()
	for _, m := range list.Models {
		ctxLen := ""
		if m.ContextLength > 0 {
			ctxLen = fmt.Sprint(m.ContextLength)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, shortDigest(m.Digest), humanBytes(m.Size), processor(m), ctxLen, until(m.ExpiresAt, now))
	}
	return tw.Flush()
}

// processor is ps's PROCESSOR column: the share of the model in GPU memory.
func processor(m ollama.ProcessModel) string {
	switch {
	case m.Size <= 0 || m.SizeVRAM <= 0:
		return "100% CPU"
	case m.SizeVRAM >= m.Size:
		return "100% GPU"
	}
	gpu := m.SizeVRAM * 100 / m.Size
	return fmt.Sprintf("%d%%/%d%% CPU/GPU", 100-gpu, gpu)
}

// until is ps's UNTIL column.
func until(t, now time.Time) string {
	switch {
	case t.IsZero() || t.Sub(now) > 50*365*24*time.Hour:
		return "Forever"
	case !t.After(now):
		return "Stopping..."
	}
	return humanTime(t, now)
}

func runRemove(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addClientFlags(fs)
	modelsDir := addModelsDirFlag(fs)
	name, err := oneArg(fs, args, "MODEL")
	if err != nil {
		return err
	}
	c, err := connect(ctx, cf)
	switch {
	case errors.Is(err, errNoDaemon):
		id, err := localResolve(ctx, *modelsDir, name, stderr, func(e *engine.Engine, id string) error {
			_, err := e.DeleteModel(ctx, id)
			return err
		})
		if err != nil {
			return err
		}
		name = id
	case err != nil:
		return err
	default:
		if err := c.do(ctx, http.MethodDelete, "/api/delete", ollama.DeleteRequest{Model: name}, nil); err != nil {
			return err
		}
	}
	_, err = fmt.Fprintf(stdout, "deleted '%s'\n", name)
	return err
}

// localResolve finds name among the models dir's models (as the daemon
// resolves Ollama names) and runs fn on it with an engine of that dir.
func localResolve(ctx context.Context, modelsDir, name string, stderr io.Writer, fn func(*engine.Engine, string) error) (string, error) {
	e, err := newCLIEngine(modelsDir, "cpu", precision{}, stderr)
	if err != nil {
		return "", err
	}
	defer e.Close()
	infos, err := e.Models(ctx)
	if err != nil {
		return "", err
	}
	ids := make([]string, len(infos))
	for i, m := range infos {
		ids[i] = m.ID
	}
	id, err := ollama.Resolve(name, ids)
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", fmt.Errorf("model %q not found in %s", name, modelsDir)
	}
	return id, fn(e, id)
}

func runStop(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("stop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addClientFlags(fs)
	name, err := oneArg(fs, args, "MODEL")
	if err != nil {
		return err
	}
	c, err := connect(ctx, cf)
	if errors.Is(err, errNoDaemon) {
		return fmt.Errorf("%w: nothing to stop", err)
	}
	if err != nil {
		return err
	}
	// As ollama stop: a generate without a prompt and keep_alive 0 unloads.
	return c.do(ctx, http.MethodPost, "/api/generate", map[string]any{"model": name, "keep_alive": 0}, nil)
}

func runShow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("show", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addClientFlags(fs)
	modelsDir := addModelsDirFlag(fs)
	asJSON := fs.Bool("json", false, "print the daemon's /api/show answer as JSON")
	modelfile := fs.Bool("modelfile", false, "print the model's Modelfile")
	parameters := fs.Bool("parameters", false, "print the model's parameters")
	template := fs.Bool("template", false, "print the model's chat template")
	system := fs.Bool("system", false, "print the model's system prompt")
	license := fs.Bool("license", false, "print the model's license")
	name, err := oneArg(fs, args, "MODEL")
	if err != nil {
		return err
	}
	var show ollama.ShowResponse
	c, err := connect(ctx, cf)
	switch {
	case errors.Is(err, errNoDaemon):
		if _, err := localResolve(ctx, *modelsDir, name, stderr, func(e *engine.Engine, id string) error {
			info, err := e.Model(ctx, id)
			show = localShow(info)
			return err
		}); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if err := c.do(ctx, http.MethodPost, "/api/show", ollama.ShowRequest{Model: name}, &show); err != nil {
			return err
		}
	}
	switch {
	case *asJSON:
		return writeJSON(stdout, show)
	case *modelfile:
		_, err = io.WriteString(stdout, show.Modelfile)
	case *parameters:
		_, err = fmt.Fprintln(stdout, show.Parameters)
	case *template:
		_, err = fmt.Fprintln(stdout, show.Template)
	case *system:
		_, err = fmt.Fprintln(stdout, show.System)
	case *license:
		_, err = fmt.Fprintln(stdout, show.License)
	default:
		err = printShow(stdout, show)
	}
	return err
}

// localShow is show without a daemon: what the model's files say.
func localShow(info engine.ModelInfo) ollama.ShowResponse {
	mi := map[string]any{"general.architecture": info.ModelType, "general.parameter_count": info.Parameters}
	if info.ContextLength > 0 && info.ModelType != "" {
		mi[info.ModelType+".context_length"] = info.ContextLength
	}
	return ollama.ShowResponse{Modelfile: "FROM " + info.ID + "\n", Details: ollama.DetailsFrom(info), ModelInfo: mi,
		Capabilities: []string{"completion"}, ModifiedAt: info.Modified.UTC()}
}

// printShow is ollama show's summary: Model, Capabilities, Parameters, System
// and License sections with indented two-column rows.
func printShow(w io.Writer, s ollama.ShowResponse) error {
	tw := tabwriter.NewWriter(w, 0, 0, 4, ' ', 0)
	section := func(title string, rows [][2]string) {
		if len(rows) == 0 {
			return
		}
		fmt.Fprintf(tw, "  %s\n", title)
		for _, r := range rows {
			if r[1] == "" {
				fmt.Fprintf(tw, "    %s\n", r[0])
				continue
			}
			fmt.Fprintf(tw, "    %s\t%s\n", r[0], r[1])
		}
		fmt.Fprintln(tw)
	}
	arch, _ := s.ModelInfo["general.architecture"].(string)
	var model [][2]string
	add := func(k, v string) {
		if v != "" && v != "0" {
			model = append(model, [2]string{k, v})
		}
	}
	add("architecture", arch)
	add("parameters", s.Details.ParameterSize)
	add("context length", infoNumber(s.ModelInfo, arch+".context_length"))
	add("embedding length", infoNumber(s.ModelInfo, arch+".embedding_length"))
	add("quantization", s.Details.QuantizationLevel)
	if s.Details.ParentModel != "" {
		add("model", s.Details.ParentModel)
	}
	section("Model", model)
	var caps [][2]string
	for _, c := range s.Capabilities {
		caps = append(caps, [2]string{c, ""})
	}
	section("Capabilities", caps)
	var params [][2]string
	for _, l := range strings.Split(strings.TrimSpace(s.Parameters), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), " "); ok {
			params = append(params, [2]string{k, strings.TrimSpace(v)})
		}
	}
	section("Parameters", params)
	if s.System != "" {
		section("System", [][2]string{{firstLine(s.System), ""}})
	}
	if s.License != "" {
		section("License", [][2]string{{firstLine(s.License), ""}})
	}
	return tw.Flush()
}

// infoNumber is a model_info value as text ("" when absent).
func infoNumber(mi map[string]any, key string) string {
	switch v := mi[key].(type) {
	case float64:
		return fmt.Sprint(int64(v))
	case int, int64:
		return fmt.Sprint(v)
	}
	return ""
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// humanBytes writes a size as Ollama does: decimal units, "4.7 GB", "986 MB".
func humanBytes(b int64) string {
	units := []struct {
		n    float64
		name string
	}{{1e12, "TB"}, {1e9, "GB"}, {1e6, "MB"}, {1e3, "KB"}}
	for _, u := range units {
		if float64(b) >= u.n {
			v := float64(b) / u.n
			if v >= 10 {
				return fmt.Sprintf("%d %s", int64(v), u.name)
			}
			return fmt.Sprintf("%.1f %s", v, u.name)
		}
	}
	return fmt.Sprintf("%d B", b)
}

// humanTime writes t relative to now as Ollama does: "3 weeks ago",
// "4 minutes from now".
func humanTime(t, now time.Time) string {
	if t.IsZero() {
		return "Unknown"
	}
	d, suffix := now.Sub(t), " ago"
	if d < 0 {
		d, suffix = -d, " from now"
	}
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	var s string
	switch {
	case d < time.Second:
		s = "Less than a second"
	case d < time.Minute:
		s = plural(int64(d/time.Second), "second")
	case d < 2*time.Minute:
		s = "About a minute"
	case d < time.Hour:
		s = plural(int64(d/time.Minute), "minute")
	case d < 2*time.Hour:
		s = "About an hour"
	case d < 48*time.Hour:
		s = plural(int64(d/time.Hour), "hour")
	case d < 14*24*time.Hour:
		s = plural(int64(d/(24*time.Hour)), "day")
	case d < 60*24*time.Hour:
		s = plural(int64(d/(7*24*time.Hour)), "week")
	case d < 2*365*24*time.Hour:
		s = plural(int64(d/(30*24*time.Hour)), "month")
	default:
		s = plural(int64(d/(365*24*time.Hour)), "year")
	}
	return s + suffix
}
