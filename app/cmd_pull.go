package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mlx-manager/mlx-manager/api/ollama"
	"golang.org/x/term"
)

func runPull(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("pull", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addClientFlags(fs)
	repo, err := oneArg(fs, args, "REPO (a Hugging Face repo id, org/name)")
	if err != nil {
		return err
	}
	c, err := connect(ctx, cf)
	if errors.Is(err, errNoDaemon) {
		return fmt.Errorf("%w: start it with 'mlx-manager serve' (downloads belong to the daemon, which resumes them)", err)
	}
	if err != nil {
		return err
	}
	bar := newProgress(stderr)
	err = c.stream(ctx, "/api/pull", ollama.PullRequest{Model: repo}, func(line []byte) error {
		var p ollama.ProgressResponse
		if err := json.Unmarshal(line, &p); err != nil {
			return fmt.Errorf("read the progress: %w", err)
		}
		bar.update(p)
		return nil
	})
	bar.done()
	if errors.Is(err, context.Canceled) {
		// The daemon keeps downloading; pulling again joins it.
		fmt.Fprintln(stderr, "stopped watching: the daemon goes on downloading; pull again to follow it")
	}
	return err
}

// progress draws /api/pull's lines as ollama pull does: one line per status,
// the running one redrawn in place with a bar on a terminal, and only the
// status changes (plus a line a second of progress) elsewhere.
type progress struct {
	w       io.Writer
	tty     bool
	last    string    // status of the line being drawn
	drawn   bool      // a line is open (no newline yet)
	printed time.Time // when the last non-terminal progress line was written
	start   time.Time
	first   int64 // completed bytes at start, for the rate
}

func newProgress(w io.Writer) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progress{w: w, tty: tty}
}

func (p *progress) update(r ollama.ProgressResponse) {
	if r.Status != p.last {
		p.done()
		p.last, p.start, p.first = r.Status, time.Now(), r.Completed
	}
	line := r.Status
	if r.Total > 0 {
		line = fmt.Sprintf("%s %3d%% ▕%s▏ %s/%s%s", r.Status, r.Completed*100/r.Total, bar(r.Completed, r.Total, 20),
			humanBytes(r.Completed), humanBytes(r.Total), p.rate(r.Completed))
	}
	switch {
	case p.tty:
		fmt.Fprintf(p.w, "\r\x1b[K%s", line)
		p.drawn = true
	case !p.drawn || time.Since(p.printed) >= time.Second || (r.Total > 0 && r.Completed == r.Total):
		fmt.Fprintln(p.w, line)
		p.drawn, p.printed = true, time.Now()
	}
}

// rate is the download speed since the status began, once it means something.
func (p *progress) rate(done int64) string {
	el := time.Since(p.start)
	if el < time.Second || done <= p.first {
		return ""
	}
	return fmt.Sprintf(" %s/s", humanBytes(int64(float64(done-p.first)/el.Seconds())))
}

// done ends the open line.
func (p *progress) done() {
	if p.drawn && p.tty {
		fmt.Fprintln(p.w)
	}
	p.drawn = false
}

// bar is a bar of width cells filled in proportion done/total.
func bar(done, total int64, width int) string {
	n := int(done * int64(width) / max(total, 1))
	n = min(max(n, 0), width)
	return strings.Repeat("█", n) + strings.Repeat(" ", width-n)
}
