package hub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// ManagerOptions configure a download Manager. Zero values take the documented defaults.
type ManagerOptions struct {
	Client  *Client // required
	Cache   Cache   // required: Cache.Root
	Journal Journal // nil: no persistence across restarts
	Logger  *slog.Logger

	// AllowPatterns selects the files of a repo to download, matched against the base
	// name. nil means DefaultAllowPatterns; an empty, non-nil slice means every file.
	AllowPatterns []string
	Concurrency   int           // files downloaded in parallel per task (default 4)
	MaxRetries    int           // consecutive failed attempts without progress per file (default 5)
	RetryDelay    time.Duration // first backoff delay, doubled per failure (default 1s)
	MaxRetryDelay time.Duration // backoff cap (default 30s)
	StallTimeout  time.Duration // no bytes for this long aborts and retries the request (default 30s)
	// ProgressInterval is how often subscribers get progress while bytes flow (default 500ms).
	ProgressInterval time.Duration
	KeepFinished     int // finished tasks kept for List (default 50)
	// FinishedTTL is how long a completed or cancelled task stays in List after
	// it ended (default a day), so the downloads card does not fill up forever.
	// Failed tasks stay until resumed or cleared: their partial files can resume.
	FinishedTTL time.Duration
	// Now is the clock FinishedTTL is measured with; nil: time.Now. For tests.
	Now func() time.Time
	// FreeSpace reports the free bytes of the file system holding dir; default statfs.
	FreeSpace func(dir string) (int64, error)
}

// DefaultAllowPatterns are the files an MLX model needs, as mlx-lm's downloader picks them.
var DefaultAllowPatterns = []string{"*.json", "model*.safetensors", "*.py", "tokenizer.model",
	"*.tiktoken", "tiktoken.model", "*.txt", "*.jsonl", "*.jinja"}

// Manager owns every download: its goroutines live on the manager's own context, not on
// the request that started them, and Close waits for all of them.
type Manager struct {
	opts    ManagerOptions
	client  *Client
	cache   Cache
	journal Journal
	log     *slog.Logger

	// base is the manager's lifetime context; every run derives from it and Close cancels
	// it with ErrClosed. Storing it is the point: downloads outlive their requests.
	base context.Context //nolint:containedctx // the manager's own lifetime, see above
	stop context.CancelCauseFunc
	wg   sync.WaitGroup

	mu     sync.Mutex // guards the fields below; taken before any Task.mu
	closed bool
	tasks  map[string]*Task // by id: active and recently finished
	byRepo map[string]*Task // the live (not completed, not cancelled) task of each repo

	changes changes // manager-wide "a download changed" signals
}

var (
	errPaused    = errors.New("download paused")
	errCancelled = errors.New("download cancelled")
)

// NewManager validates opts and returns an idle manager; call ResumeAll to pick up
// journaled downloads.
func NewManager(opts ManagerOptions) (*Manager, error) {
	if opts.Client == nil {
		return nil, errors.New("hub manager: nil client")
	}
	if opts.Cache.Root == "" {
		return nil, errors.New("hub manager: cache root not set")
	}
	if opts.AllowPatterns == nil {
		opts.AllowPatterns = DefaultAllowPatterns
	}
	for _, p := range opts.AllowPatterns {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("hub manager: allow pattern %q: %w", p, err)
		}
	}
	setDefault(&opts.Concurrency, 4)
	setDefault(&opts.MaxRetries, 5)
	setDefault(&opts.KeepFinished, 50)
	setDefault(&opts.FinishedTTL, 24*time.Hour)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	setDefault(&opts.RetryDelay, time.Second)
	setDefault(&opts.MaxRetryDelay, 30*time.Second)
	setDefault(&opts.StallTimeout, 30*time.Second)
	setDefault(&opts.ProgressInterval, 500*time.Millisecond)
	if opts.FreeSpace == nil {
		opts.FreeSpace = freeSpace
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	m := &Manager{opts: opts, client: opts.Client, cache: opts.Cache, journal: opts.Journal, log: log,
		tasks: map[string]*Task{}, byRepo: map[string]*Task{}}
	m.base, m.stop = context.WithCancelCause(context.Background())
	return m, nil
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Cache is the cache the manager downloads into.
func (m *Manager) Cache() Cache { return m.cache }

// Start downloads repo's main branch into the cache and returns its task at once; the
// download goes on in the background. Asking again while the repo is downloading (or
// paused, which resumes it) returns the same task. Hub errors (ErrNotFound, ErrGated,
// ErrUnauthorized, ErrOffline) and ErrNoSpace are returned here, before any byte moves.
func (m *Manager) Start(ctx context.Context, repo string) (*Task, error) {
	if err := checkRepoID(repo); err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrClosed
	}
	old := m.byRepo[repo]
	if old != nil && !old.replaceable() {
		m.mu.Unlock()
		return m.join(ctx, old)
	}
	t := m.newTaskLocked(repo, "main", newTaskID(), time.Now())
	m.byRepo[repo] = t
	m.mu.Unlock()
	m.changes.notify()
	if old != nil {
		m.unsave(old) // a finished or failed task gives way to a fresh one (partial files are reused)
	}

	err := m.prepare(ctx, t)
	t.prepErr = err
	close(t.prepared)
	if err != nil {
		m.forget(t)
		return nil, err
	}
	m.saveAs(t, StatusPending, nil) // before the run starts, so its final unsave cannot come first
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		m.unsave(t)
		m.forget(t)
		return nil, ErrClosed
	}
	m.launchLocked(t)
	m.mu.Unlock()
	return t, nil
}

// join returns an existing task to a second Start, resuming it if it is paused.
func (m *Manager) join(ctx context.Context, t *Task) (*Task, error) {
	select {
	case <-t.prepared:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if t.prepErr != nil {
		return nil, t.prepErr
	}
	if t.Progress().Status == StatusPaused {
		if err := m.Resume(ctx, t.id); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// replaceable reports whether a new Start should make a new task rather than join t:
// t has stopped in a final status (a failed one included).
func (t *Task) replaceable() bool {
	select {
	case <-t.prepared:
	default:
		return false // still starting: join it
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status.Final() && t.cancel == nil
}

func (m *Manager) newTaskLocked(repo, rev, id string, created time.Time) *Task {
	t := &Task{m: m, id: id, repo: repo, rev: rev, created: created, updated: created,
		status: StatusPending, prepared: make(chan struct{})}
	m.tasks[id] = t
	return t
}

func newTaskID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// forget drops a task that never started.
func (m *Manager) forget(t *Task) {
	defer m.changes.notify() // after the unlock below: the list changed
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.tasks, t.id)
	if m.byRepo[t.repo] == t {
		delete(m.byRepo, t.repo)
	}
}

// prepare fetches the file list of the revision, picks the files to download, reads
// what the cache already holds and checks the disk has room for the rest.
func (m *Manager) prepare(ctx context.Context, t *Task) error {
	info, err := m.client.ModelInfo(ctx, t.repo, t.rev)
	if err != nil {
		if errors.Is(err, ErrGated) {
			return fmt.Errorf("download %s: %w (see %s)", t.repo, err, m.client.repoPageURL(t.repo))
		}
		return fmt.Errorf("download %s: %w", t.repo, err)
	}
	var files []*fileState
	for _, f := range info.Files {
		if !m.allowed(f.Path) {
			continue
		}
		if err := checkEtag(f.Etag()); err != nil {
			return fmt.Errorf("download %s: file %s: %w", t.repo, f.Path, err)
		}
		files = append(files, &fileState{File: f, etag: f.Etag(), status: StatusPending})
	}
	if len(files) == 0 {
		return fmt.Errorf("download %s: %w: no model files in the repo", t.repo, ErrNotFound)
	}
	t.mu.Lock()
	t.commit, t.files = info.SHA, files
	t.mu.Unlock()
	m.syncFromDisk(t)
	return m.checkSpace(t)
}

func (m *Manager) allowed(name string) bool {
	if len(m.opts.AllowPatterns) == 0 {
		return true
	}
	base := path.Base(name)
	for _, p := range m.opts.AllowPatterns {
		if ok, _ := path.Match(p, base); ok {
			return true
		}
	}
	return false
}

// syncFromDisk sets each file's progress from the blobs already in the cache.
func (m *Manager) syncFromDisk(t *Task) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range t.files {
		final, partial, err := m.cache.blobPaths(t.repo, f.etag)
		if err != nil {
			continue
		}
		if st, err := os.Stat(final); err == nil && st.Size() == f.Size {
			f.done.Store(f.Size)
			continue
		}
		if st, err := os.Stat(partial); err == nil {
			f.done.Store(min(st.Size(), f.Size))
		}
	}
}

// checkSpace fails with ErrNoSpace when the disk cannot hold the bytes still missing.
func (m *Manager) checkSpace(t *Task) error {
	p := t.Progress()
	need := p.BytesTotal - p.BytesDone
	if need <= 0 {
		return nil
	}
	if err := os.MkdirAll(m.cache.Root, 0o755); err != nil {
		return fmt.Errorf("download %s: %w", t.repo, err)
	}
	free, err := m.opts.FreeSpace(m.cache.Root)
	if err != nil {
		return fmt.Errorf("download %s: %w", t.repo, err)
	}
	if free < need {
		return fmt.Errorf("download %s: %w: needs %s more but %s has %s free",
			t.repo, ErrNoSpace, formatBytes(need), m.cache.Root, formatBytes(free))
	}
	return nil
}

func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for q := n / unit; q >= unit; q /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Get returns the task with this id.
func (m *Manager) Get(id string) (*Task, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tasks[id]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownTask, id)
	}
	return t, nil
}

// List returns active and recently finished tasks, oldest first. Completed and
// cancelled tasks older than FinishedTTL are dropped on the way.
func (m *Manager) List() []Progress {
	m.mu.Lock()
	expired := m.expireLocked()
	tasks := make([]*Task, 0, len(m.tasks))
	for _, t := range m.tasks {
		tasks = append(tasks, t)
	}
	m.mu.Unlock()
	if expired > 0 {
		m.changes.notify()
	}
	out := make([]Progress, 0, len(tasks))
	for _, t := range tasks {
		out = append(out, t.Progress())
	}
	slices.SortFunc(out, func(a, b Progress) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.TaskID, b.TaskID)
	})
	return out
}

// expireLocked drops completed and cancelled tasks that ended more than
// FinishedTTL ago and returns how many.
func (m *Manager) expireLocked() int {
	cutoff := m.opts.Now().Add(-m.opts.FinishedTTL)
	n := 0
	for id, t := range m.tasks {
		p := t.Progress()
		if (p.Status == StatusCompleted || p.Status == StatusCancelled) && p.UpdatedAt.Before(cutoff) {
			delete(m.tasks, id)
			n++
		}
	}
	return n
}

// ClearFinished removes every finished task from List, as the downloads card's
// "Clear finished" does: completed and cancelled ones, and failed ones, which
// the user thereby gives up (their journal record goes; partial files stay in
// the cache, where a new download of the repo resumes from them). Active and
// paused downloads are untouched. It returns how many were cleared.
func (m *Manager) ClearFinished() int {
	var dropped []*Task
	m.mu.Lock()
	for id, t := range m.tasks {
		t.mu.Lock()
		final := t.status.Final()
		t.mu.Unlock()
		if !final {
			continue
		}
		delete(m.tasks, id)
		if m.byRepo[t.repo] == t {
			delete(m.byRepo, t.repo)
		}
		dropped = append(dropped, t)
	}
	m.mu.Unlock()
	for _, t := range dropped {
		m.unsave(t)
	}
	if len(dropped) > 0 {
		m.changes.notify()
	}
	return len(dropped)
}

// Subscribe follows one task's progress; see Task.Subscribe.
func (m *Manager) Subscribe(id string) (<-chan Progress, func(), error) {
	t, err := m.Get(id)
	if err != nil {
		return nil, nil, err
	}
	ch, cancel := t.Subscribe()
	return ch, cancel, nil
}

// Delete cancels any download of repo and removes it from the cache, returning the
// bytes freed.
func (m *Manager) Delete(ctx context.Context, repo string) (int64, error) {
	if err := checkRepoID(repo); err != nil {
		return 0, err
	}
	m.mu.Lock()
	t := m.byRepo[repo]
	m.mu.Unlock()
	if t != nil {
		select {
		case <-t.prepared:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		if t.prepErr == nil && !t.replaceable() {
			if err := m.Cancel(t.id); err != nil && !t.replaceable() {
				return 0, fmt.Errorf("delete %s: %w", repo, err)
			}
		}
	}
	return m.cache.Delete(repo)
}

// Close stops every download (they stay journaled and resume on the next ResumeAll),
// waits for the goroutines and ends all subscriptions. It is safe to call twice.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	m.stop(ErrClosed)
	m.wg.Wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.tasks {
		t.mu.Lock()
		t.subs.closeAll()
		t.mu.Unlock()
	}
	return nil
}
