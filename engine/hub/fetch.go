package hub

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

var errStalled = errors.New("download stalled")

// download fetches every file of t that is not complete yet, Concurrency at a time.
func (m *Manager) download(ctx context.Context, t *Task) error {
	t.mu.Lock()
	files := append([]*fileState(nil), t.files...)
	t.mu.Unlock()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.opts.Concurrency)
	for _, f := range files {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return m.fetch(gctx, t, f) })
	}
	return g.Wait()
}

// fetch brings one file into the cache: reuse a complete blob, or download into
// blobs/{etag}.incomplete with resume and retries, verify, rename, link.
func (m *Manager) fetch(ctx context.Context, t *Task, f *fileState) error {
	final, partial, err := m.cache.blobPaths(t.repo, f.etag)
	if err != nil {
		return err
	}
	if complete(final, f.Size) {
		return m.linkDone(t, f)
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	unlock, err := m.cache.lockBlob(ctx, t.repo, f.etag)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	defer unlock()
	if complete(final, f.Size) { // another tool finished it while we waited for the lock
		return m.linkDone(t, f)
	}
	if f.verify == nil {
		f.verify = newVerifier(f.File)
	}
	t.setFileStatus(f, StatusDownloading)
	for failures := 0; ; {
		progressed, err := m.fetchOnce(ctx, t, f, partial)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if progressed {
			failures = 0
		}
		failures++
		if !retryable(err) || failures > m.opts.MaxRetries {
			t.setFileStatus(f, StatusFailed)
			return fmt.Errorf("%s: after %d attempts: %w", f.Path, failures, err)
		}
		delay := m.backoff(failures, err)
		m.log.Warn("download retry", "model", t.repo, "file", f.Path, "attempt", failures, "dur", delay, "err", err)
		if err := sleep(ctx, delay); err != nil {
			return context.Cause(ctx)
		}
	}
	t.setFileStatus(f, StatusVerifying)
	if err := f.verify.check(); err != nil {
		// Bad bytes are not resumable: start this file over next time.
		_ = os.Remove(partial)
		f.done.Store(0)
		f.verify = nil
		t.setFileStatus(f, StatusFailed)
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	if err := os.Rename(partial, final); err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	return m.linkDone(t, f)
}

func complete(blob string, size int64) bool {
	st, err := os.Stat(blob)
	return err == nil && st.Mode().IsRegular() && st.Size() == size
}

func (m *Manager) linkDone(t *Task, f *fileState) error {
	if err := m.cache.linkSnapshot(t.repo, t.commit, f.Path, f.etag); err != nil {
		return err
	}
	f.done.Store(f.Size)
	t.setFileStatus(f, StatusCompleted)
	return nil
}

// fetchOnce makes one request for the rest of the file. It returns nil once the
// partial file holds every byte (synced); progressed says whether bytes arrived.
func (m *Manager) fetchOnce(ctx context.Context, t *Task, f *fileState, partial string) (progressed bool, err error) {
	file, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return false, fmt.Errorf("open partial: %w", err)
	}
	defer func() {
		if cerr := file.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close partial: %w", cerr)
		}
	}()
	off, err := file.Seek(0, io.SeekEnd)
	if err != nil {
		return false, fmt.Errorf("seek partial: %w", err)
	}
	if off > f.Size {
		if off, err = restart(file, f); err != nil {
			return false, err
		}
	}
	if err := f.verify.catchUp(file, off); err != nil {
		return false, err
	}
	f.done.Store(off)
	if off == f.Size {
		return false, syncFile(file)
	}

	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// The stall timer covers the wait for headers too: a CDN that never answers is a stall.
	stall := time.AfterFunc(m.opts.StallTimeout, func() { cancel(errStalled) })
	defer stall.Stop()
	resp, err := m.client.openFile(rctx, t.repo, t.commit, f.Path, off)
	if err != nil {
		return false, stallOr(rctx, err)
	}
	defer resp.Body.Close()
	if off, err = m.startOffset(resp, file, f, off); err != nil {
		return false, err
	}
	n, err := copyBody(file, resp.Body, f, off, func() { stall.Reset(m.opts.StallTimeout) })
	if err != nil {
		return n > 0, stallOr(rctx, err)
	}
	if off+n != f.Size {
		return n > 0, fmt.Errorf("got %d of %d bytes: %w", off+n, f.Size, io.ErrUnexpectedEOF)
	}
	return true, syncFile(file)
}

// startOffset reconciles the response with the partial file: a 206 must start where
// the file ends, a 200 means the server ignored Range and the file starts over.
func (m *Manager) startOffset(resp *http.Response, file *os.File, f *fileState, off int64) (int64, error) {
	switch resp.StatusCode {
	case http.StatusPartialContent:
		start, ok := contentRangeStart(resp.Header.Get("Content-Range"))
		if !ok || start != off {
			return 0, fmt.Errorf("%w: content-range %q for offset %d", ErrBadResponse, resp.Header.Get("Content-Range"), off)
		}
	case http.StatusOK:
		if off > 0 {
			var err error
			if off, err = restart(file, f); err != nil {
				return 0, err
			}
		}
	case http.StatusRequestedRangeNotSatisfiable:
		// The partial file is inconsistent with the server's copy; start over.
		if _, err := restart(file, f); err != nil {
			return 0, err
		}
		return 0, fmt.Errorf("range from %d not satisfiable: starting over", off)
	default:
		return 0, fmt.Errorf("%w: status %d", ErrBadResponse, resp.StatusCode)
	}
	if resp.ContentLength >= 0 && off+resp.ContentLength != f.Size {
		return 0, fmt.Errorf("%w: server sends %d bytes from %d, file has %d", ErrBadResponse, resp.ContentLength, off, f.Size)
	}
	return off, nil
}

// copyBody appends the body to file, feeding the verifier and the progress counter.
func copyBody(file *os.File, body io.Reader, f *fileState, off int64, onBytes func()) (int64, error) {
	buf := make([]byte, 256<<10)
	var n int64
	for {
		k, rerr := body.Read(buf)
		if k > 0 {
			onBytes()
			if off+n+int64(k) > f.Size {
				return n, fmt.Errorf("%w: more than the %d bytes announced", ErrBadResponse, f.Size)
			}
			if _, err := file.Write(buf[:k]); err != nil {
				return n, fmt.Errorf("write partial: %w", err)
			}
			f.verify.write(buf[:k])
			n += int64(k)
			f.done.Store(off + n)
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

func restart(file *os.File, f *fileState) (int64, error) {
	if err := file.Truncate(0); err != nil {
		return 0, fmt.Errorf("truncate partial: %w", err)
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("seek partial: %w", err)
	}
	f.verify.reset()
	f.done.Store(0)
	return 0, nil
}

func syncFile(file *os.File) error {
	if err := file.Sync(); err != nil {
		return fmt.Errorf("sync partial: %w", err)
	}
	return nil
}

// stallOr names a stall as such rather than as the context error it caused.
func stallOr(rctx context.Context, err error) error {
	if errors.Is(context.Cause(rctx), errStalled) {
		return errStalled
	}
	return err
}

func contentRangeStart(v string) (int64, bool) {
	v, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes ")
	if !ok {
		return 0, false
	}
	start, _, ok := strings.Cut(v, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(start, 10, 64)
	return n, err == nil
}

// retryable says whether another attempt may succeed: network trouble, stalls and
// temporary Hub answers yes; missing repos, auth, bad checksums and local disk errors no.
func retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.temporary()
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return false
	}
	for _, perm := range []error{ErrChecksum, ErrUnsafePath, ErrOffline, ErrBadResponse, ErrNotFound, ErrUnauthorized, ErrGated} {
		if errors.Is(err, perm) {
			return false
		}
	}
	return true
}

// backoff doubles the delay per failure, with jitter, and honours Retry-After.
func (m *Manager) backoff(failures int, err error) time.Duration {
	d := m.opts.RetryDelay << min(failures-1, 20)
	if d <= 0 || d > m.opts.MaxRetryDelay {
		d = m.opts.MaxRetryDelay
	}
	d = d/2 + rand.N(d/2+1)
	var se *StatusError
	if errors.As(err, &se) && se.RetryAfter > d {
		d = se.RetryAfter
	}
	return d
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// verifier hashes a file as it is written: sha256 for LFS files, the git blob sha1
// ("blob <size>\x00" + content) for the others.
type verifier struct {
	newHash func() hash.Hash
	header  string
	want    string
	h       hash.Hash
	n       int64 // bytes hashed
}

func newVerifier(f File) *verifier {
	v := &verifier{}
	switch {
	case f.LFS != nil:
		v.newHash, v.want = sha256.New, f.LFS.SHA256
	case sha1Hex.MatchString(f.BlobID):
		v.newHash, v.want = sha1.New, f.BlobID
		v.header = "blob " + strconv.FormatInt(f.Size, 10) + "\x00"
	}
	v.reset()
	return v
}

func (v *verifier) reset() {
	v.n = 0
	v.h = nil
	if v.newHash != nil {
		v.h = v.newHash()
		v.h.Write([]byte(v.header))
	}
}

func (v *verifier) write(p []byte) {
	if v.h != nil {
		v.h.Write(p)
	}
	v.n += int64(len(p))
}

// catchUp hashes the first off bytes of file when the in-memory state does not already
// cover exactly them (a resume after a restart, or after a failed attempt).
func (v *verifier) catchUp(file *os.File, off int64) error {
	if v.n == off {
		return nil
	}
	v.reset()
	if v.h == nil {
		v.n = off
		return nil
	}
	if _, err := io.Copy(v.h, io.NewSectionReader(file, 0, off)); err != nil {
		return fmt.Errorf("hash partial: %w", err)
	}
	v.n = off
	return nil
}

func (v *verifier) check() error {
	if v.h == nil {
		return nil
	}
	if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want {
		return fmt.Errorf("%w: got %s, want %s", ErrChecksum, got, v.want)
	}
	return nil
}
