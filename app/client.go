package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mlx-manager/mlx-manager/app/config"
)

// cliKeyName is the file in the data dir holding the API key the CLI made for
// itself with the daemon's local credential (mode 0600, like daemon.json).
const cliKeyName = "cli-key"

// errNoDaemon means no daemon answered where the CLI looked; commands that
// make sense without one fall back to the local files.
var errNoDaemon = errors.New("no daemon is running")

// client talks to a running daemon through its Ollama API, as the ollama CLI
// talks to its server.
type client struct {
	base    string // http://host:port
	cred    string // Bearer credential
	http    *http.Client
	dataDir string
}

// clientFlags are the flags every daemon-driving command takes.
type clientFlags struct {
	dataDir, host, apiKey string
}

func addClientFlags(fs *flag.FlagSet) *clientFlags {
	d := config.ClientDefaults(nil)
	f := &clientFlags{}
	fs.StringVar(&f.dataDir, "data-dir", d.DataDir, "the daemon's data dir, where it records its address and the CLI's credential (env MLX_MANAGER_DATA_DIR)")
	fs.StringVar(&f.host, "host", d.Addr, "HOST:PORT of the daemon (env MLX_MANAGER_HOST; default: where the daemon of --data-dir listens)")
	fs.StringVar(&f.apiKey, "api-key", string(d.APIKey), "API key for a daemon other than the one of --data-dir (env MLX_MANAGER_API_KEY)")
	return f
}

// connect finds the daemon and a credential for it. The local credential and
// the CLI's key are only ever sent to the address the daemon recorded in the
// data dir: a --host elsewhere needs --api-key, so a stranger listening on
// another port cannot collect them.
func connect(ctx context.Context, f *clientFlags) (*client, error) {
	rec, recErr := readDaemonRecord(f.dataDir)
	if recErr != nil && !errors.Is(recErr, errNoDaemonRecord) {
		return nil, recErr
	}
	c := &client{http: &http.Client{}, dataDir: f.dataDir}
	switch {
	case f.host != "":
		c.base = "http://" + strings.TrimPrefix(strings.TrimPrefix(f.host, "http://"), "https://")
		if strings.HasPrefix(f.host, "https://") {
			c.base = f.host
		}
	case recErr == nil:
		c.base = rec.URL
	default:
		c.base = "http://" + config.DefaultAddr
	}
	c.base = strings.TrimRight(c.base, "/")
	own := recErr == nil && c.base == rec.URL
	if err := c.probe(ctx); err != nil {
		return nil, err
	}
	switch {
	case f.apiKey != "":
		c.cred = f.apiKey
	case own:
		cred, err := c.ownCredential(ctx, rec)
		if err != nil {
			return nil, fmt.Errorf("%w (the daemon at %s)", err, c.base)
		}
		c.cred = cred
	}
	return c, nil
}

// probe checks that something answers at c.base.
func (c *client) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/health", nil)
	if err != nil {
		return fmt.Errorf("daemon address %s: %w", c.base, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) || errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%w at %s", errNoDaemon, c.base)
		}
		return fmt.Errorf("reach the daemon at %s: %w", c.base, err)
	}
	resp.Body.Close()
	return nil
}

// ownCredential is the CLI's API key for the daemon of its data dir: the one
// kept in cli-key while the daemon accepts it, else a new one made with the
// daemon's local credential. A daemon that cannot make keys (no admin account
// yet) gets the local credential itself, which then names the error.
func (c *client) ownCredential(ctx context.Context, rec daemonRecord) (string, error) {
	path := filepath.Join(c.dataDir, cliKeyName)
	if b, err := os.ReadFile(path); err == nil {
		c.cred = strings.TrimSpace(string(b))
		err := c.do(ctx, http.MethodGet, "/api/version", nil, nil)
		var he *httpError
		if err == nil {
			return c.cred, nil
		}
		if !errors.As(err, &he) || he.status != http.StatusUnauthorized {
			return "", err
		}
		// Revoked in the UI, or another daemon's: make a new one.
	}
	c.cred = rec.Credential
	var created struct {
		Key string `json:"key"`
	}
	err := c.do(ctx, http.MethodPost, "/api/auth/api-keys", map[string]string{"name": "mlx-manager CLI"}, &created)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path+".tmp", []byte(created.Key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("keep the CLI's API key: %w", err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return "", fmt.Errorf("keep the CLI's API key: %w", err)
	}
	return created.Key, nil
}

// httpError is a daemon's refusal, with its message.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// responseError reads the error body of resp, in Ollama's ({"error": "..."})
// or OpenAI's ({"error": {"message": "..."}}) shape.
func responseError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body struct {
		Error json.RawMessage `json:"error"`
	}
	msg := strings.TrimSpace(string(b))
	if json.Unmarshal(b, &body) == nil && len(body.Error) > 0 {
		var s string
		var o struct {
			Message string `json:"message"`
		}
		switch {
		case json.Unmarshal(body.Error, &s) == nil:
			msg = s
		case json.Unmarshal(body.Error, &o) == nil && o.Message != "":
			msg = o.Message
		}
	}
	if msg == "" {
		msg = resp.Status
	}
	return &httpError{status: resp.StatusCode, msg: msg}
}

// send makes a request with a JSON body and returns the response when its
// status is 2xx.
func (c *client) send(ctx context.Context, method, path string, body any) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.cred != "" {
		req.Header.Set("Authorization", "Bearer "+c.cred)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, responseError(resp)
	}
	return resp, nil
}

// do is send that decodes a JSON answer into out (nil: discard it).
func (c *client) do(ctx context.Context, method, path string, body, out any) error {
	resp, err := c.send(ctx, method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	return nil
}

// stream sends a request whose answer is NDJSON and calls line for each line,
// decoded into a fresh value by decode. A line {"error": ...} ends it with
// that error.
func (c *client) stream(ctx context.Context, path string, body any, line func([]byte) error) error {
	resp, err := c.send(ctx, http.MethodPost, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return errors.New(e.Error)
		}
		if err := line(b); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("read the stream: %w", err)
	}
	return nil
}
