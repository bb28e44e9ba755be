//go:build unix

package app

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/mlx-manager/mlx-manager/engine/hub/hubtest"
	"github.com/mlx-manager/mlx-manager/engine/model/modeltest"
)

// The CLI tests run the real program under a pseudo-terminal against a real
// daemon (startProc): the way a user types, Ctrl-C included.

// ptyTerm is one CLI process on a pseudo-terminal.
type ptyTerm struct {
	t    *testing.T
	cmd  *exec.Cmd
	pty  *os.File
	mu   sync.Mutex
	out  strings.Builder // all output so far; guarded by mu
	seen int             // how much of out expect has consumed; guarded by mu
	more chan struct{}   // signalled (non-blocking) when out grows
	done chan error      // the process's exit
}

func startTerm(t *testing.T, args ...string) *ptyTerm {
	t.Helper()
	cmd := self(t, args...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	tm := &ptyTerm{t: t, cmd: cmd, pty: f, more: make(chan struct{}, 1), done: make(chan error, 1)}
	read := make(chan struct{})
	go func() {
		defer close(read)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				tm.mu.Lock()
				tm.out.Write(buf[:n])
				tm.mu.Unlock()
				select {
				case tm.more <- struct{}{}:
				default:
				}
			}
			if err != nil {
				return // EIO once the process and its terminal are gone
			}
		}
	}()
	go func() {
		err := cmd.Wait()
		<-read
		tm.done <- err
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		f.Close()
	})
	return tm
}

// expect waits until the output after the last match holds re, and returns
// the output up to and including the match.
func (tm *ptyTerm) expect(re string) string {
	tm.t.Helper()
	rx := regexp.MustCompile(re)
	timeout := time.After(60 * time.Second)
	for {
		tm.mu.Lock()
		rest := tm.out.String()[tm.seen:]
		if loc := rx.FindStringIndex(rest); loc != nil {
			tm.seen += loc[1]
			tm.mu.Unlock()
			return rest[:loc[1]]
		}
		tm.mu.Unlock()
		select {
		case <-tm.more:
		case err := <-tm.done:
			tm.done <- err
			tm.mu.Lock()
			rest = tm.out.String()[tm.seen:]
			tm.mu.Unlock()
			if !rx.MatchString(rest) {
				tm.t.Fatalf("the CLI exited (%v) before printing %q; output:\n%s", err, re, tm.all())
			}
		case <-timeout:
			tm.t.Fatalf("timed out waiting for %q; output:\n%s", re, tm.all())
		}
	}
}

func (tm *ptyTerm) all() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.out.String()
}

func (tm *ptyTerm) send(s string) {
	tm.t.Helper()
	if _, err := tm.pty.WriteString(s); err != nil {
		tm.t.Fatal(err)
	}
}

// wait returns the exit code.
func (tm *ptyTerm) wait() int {
	tm.t.Helper()
	select {
	case err := <-tm.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			tm.t.Fatal(err)
		}
		return 0
	case <-time.After(60 * time.Second):
		tm.t.Fatalf("the CLI did not exit; output:\n%s", tm.all())
		return -1
	}
}

// cliDaemon is a daemon with an admin account (whose local credential the
// CLI uses) and the flags that point the CLI at it.
func cliDaemon(t *testing.T, env ...string) (*proc, string, []string) {
	t.Helper()
	dataDir, modelsDir := t.TempDir(), t.TempDir()
	p := startProc(t, dataDir, modelsDir, env...)
	p.admin()
	return p, modelsDir, []string{"--data-dir", dataDir}
}

func TestCLIPullListShowRemove(t *testing.T) {
	src := t.TempDir()
	writeTiny(t, src, modeltest.Spec{Seed: 21, Shards: 2})
	repo, err := hubtest.RepoFromDir("cli/Pulled", src)
	if err != nil {
		t.Fatal(err)
	}
	hubSrv := hubtest.NewServer(t, repo)
	p, _, flags := cliDaemon(t, "HF_ENDPOINT="+hubSrv.URL)
	dataDir := flags[1]

	pull := startTerm(t, append([]string{"pull", repo.ID}, flags...)...)
	pull.expect(`pulling cli/Pulled +100% ▕█+▏`)
	pull.expect(`success`)
	if code := pull.wait(); code != 0 {
		t.Fatalf("pull exit code %d:\n%s", code, pull.all())
	}
	for _, name := range []string{cliKeyName, daemonRecordName} {
		if st, err := os.Stat(filepath.Join(dataDir, name)); err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v %v", name, st, err)
		}
	}

	var list []struct {
		Name    string `json:"name"`
		Size    int64  `json:"size"`
		Details struct {
			Family string `json:"family"`
		} `json:"details"`
	}
	out := cliJSON(t, &list, append([]string{"ls", "--json"}, flags...)...)
	if len(list) != 1 || list[0].Name != repo.ID || list[0].Size <= 0 || list[0].Details.Family != "llama" {
		t.Fatalf("ls --json: %s", out)
	}
	ls, stderr, code := runSelf(t, append([]string{"ls"}, flags...)...)
	if code != 0 || !regexp.MustCompile(`(?m)^NAME +ID +SIZE +MODIFIED\ncli/Pulled +[0-9a-f]{12} +[0-9.]+ [KM]B +.+ ago$`).MatchString(ls) {
		t.Fatalf("ls (exit %d):\n%s%s", code, ls, stderr)
	}

	var show struct {
		Details struct {
			Family string `json:"family"`
		} `json:"details"`
		ModelInfo    map[string]any `json:"model_info"`
		Capabilities []string       `json:"capabilities"`
	}
	out = cliJSON(t, &show, append([]string{"show", repo.ID, "--json"}, flags...)...)
	if show.Details.Family != "llama" || show.ModelInfo["general.architecture"] != "llama" || len(show.Capabilities) == 0 {
		t.Fatalf("show --json: %s", out)
	}

	rm, stderr, code := runSelf(t, append([]string{"rm", repo.ID}, flags...)...)
	if code != 0 || rm != "deleted 'cli/Pulled'\n" {
		t.Fatalf("rm (exit %d): %q %s", code, rm, stderr)
	}
	if ids := p.localModels(p.login()); len(ids) != 0 {
		t.Fatalf("after rm the daemon lists %v", ids)
	}
	_, stderr, code = runSelf(t, append([]string{"rm", repo.ID}, flags...)...)
	if code != 1 || !strings.Contains(stderr, "not found") {
		t.Fatalf("rm of a missing model (exit %d): %s", code, stderr)
	}
}

// cliJSON runs a command whose stdout is JSON and decodes it into v.
func cliJSON(t *testing.T, v any, args ...string) string {
	t.Helper()
	out, stderr, code := runSelf(t, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, stderr)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("%v: %v in %q", args, err, out)
	}
	return out
}

var statsLine = regexp.MustCompile(`\] (\d+) prompt \+ (\d+) generated tokens`)

func TestCLIChat(t *testing.T) {
	p, modelsDir, flags := cliDaemon(t)
	const id = "cli/Tiny"
	installModel(t, modelsDir, id, modeltest.Spec{Seed: 5})

	chat := startTerm(t, append([]string{"run", id, "--verbose", "--max-tokens", "6", "--temperature", "0"}, flags...)...)
	chat.expect(`>>> $`)
	var prompts, generated []int
	for i, q := range []string{"hello there", `"""`} {
		chat.send(q + "\n")
		if i == 1 {
			// A multi-line message: continuation prompts until the closing mark.
			chat.expect(`\.\.\. $`)
			chat.send("first line\n")
			chat.expect(`\.\.\. $`)
			chat.send("second line\"\"\"\n")
		}
		m := statsLine.FindStringSubmatch(chat.expect(`tokens.*\n(.|\n)*>>> $`))
		if m == nil {
			t.Fatalf("turn %d: no timings; output:\n%s", i+1, chat.all())
		}
		pr, _ := strconv.Atoi(m[1])
		g, _ := strconv.Atoi(m[2])
		prompts, generated = append(prompts, pr), append(generated, g)
	}
	// The second turn carries the first question and answer as context.
	if prompts[1] < prompts[0]+generated[0] {
		t.Errorf("second prompt %d tokens, want at least %d + %d: the history was not sent", prompts[1], prompts[0], generated[0])
	}
	chat.send("/bye\n")
	if code := chat.wait(); code != 0 {
		t.Fatalf("exit code %d; output:\n%s", code, chat.all())
	}

	// Ctrl-C in the middle of a long answer stops the answer, not the program.
	long := "cli/Long"
	installModel(t, modelsDir, long, modeltest.Spec{Seed: 5, MaxPos: 1 << 15})
	chat = startTerm(t, append([]string{"run", long, "--temperature", "0"}, flags...)...)
	chat.expect(`>>> $`)
	chat.send("go on for ever\n")
	chat.expect(`go on for ever\r?\n.`) // the echo, then the first bytes of the answer
	chat.send("\x03")
	if got := chat.expect(`>>> $`); strings.Contains(got, "Use Ctrl + d") {
		t.Fatalf("the answer had ended before Ctrl-C; output:\n%s", chat.all())
	}
	chat.send("/bye\n")
	if code := chat.wait(); code != 0 {
		t.Fatalf("exit code %d after Ctrl-C; output:\n%s", code, chat.all())
	}
	// The daemon saw the request cancelled: generation stopped there too.
	tok := p.login()
	waitFor(t, "the cancelled chat in the audit log", func() bool {
		var page struct {
			Events []struct {
				Action, Status, Model string
				CompletionTokens      int `json:"completion_tokens"`
			} `json:"events"`
		}
		p.must("GET", "/api/system/audit-logs?action=ollama.chat", tok, nil, http.StatusOK, &page)
		for _, e := range page.Events {
			if e.Model == long {
				if e.Status != "cancelled" {
					t.Fatalf("the interrupted chat was recorded as %q", e.Status)
				}
				return true
			}
		}
		return false
	})
}

func TestCLIWithoutDaemon(t *testing.T) {
	dataDir, modelsDir := t.TempDir(), t.TempDir()
	installModel(t, modelsDir, "cli/Local", modeltest.Spec{Seed: 3})
	flags := []string{"--data-dir", dataDir, "--host", freeAddr(t), "--models-dir", modelsDir}
	var list []struct {
		Name string `json:"name"`
	}
	out := cliJSON(t, &list, append([]string{"ls", "--json"}, flags...)...)
	if len(list) != 1 || list[0].Name != "cli/Local" {
		t.Fatalf("ls --json without a daemon: %s", out)
	}
	show, stderr, code := runSelf(t, append([]string{"show", "cli/Local"}, flags...)...)
	if code != 0 || !regexp.MustCompile(`(?m)^    architecture +llama$`).MatchString(show) {
		t.Fatalf("show without a daemon (exit %d):\n%s%s", code, show, stderr)
	}
	_, stderr, code = runSelf(t, append([]string{"ps"}, flags[:4]...)...)
	if code != 1 || !strings.Contains(stderr, "no daemon is running") {
		t.Fatalf("ps without a daemon (exit %d): %s", code, stderr)
	}
	ans, stderr, code := runSelf(t, append([]string{"run", "cli/Local", "hi", "--max-tokens", "2"}, flags...)...)
	if code != 0 || !strings.Contains(stderr, "loading cli/Local in this process") || !strings.Contains(stderr, "generated tokens") {
		t.Fatalf("run without a daemon (exit %d): %q\n%s", code, ans, stderr)
	}
	rm, stderr, code := runSelf(t, append([]string{"rm", "cli/Local"}, flags...)...)
	if code != 0 || rm != "deleted 'cli/Local'\n" {
		t.Fatalf("rm without a daemon (exit %d): %q %s", code, rm, stderr)
	}
	if out := cliJSON(t, &list, append([]string{"ls", "--json"}, flags...)...); len(list) != 0 {
		t.Fatalf("ls after rm: %s", out)
	}
}

// freeAddr is a loopback address where nothing listens.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
