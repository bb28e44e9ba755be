// Package hubtest runs a fake Hugging Face Hub on 127.0.0.1 for tests: the real API
// routes and JSON shapes (search, model info with blobs, tree with pagination, resolve
// with X-Repo-Commit / ETag / X-Linked-Etag / X-Linked-Size, HEAD, Range and 206), a
// 302 of LFS files to a second "CDN" server on another port, and hooks to inject
// faults (stalls, dropped connections, corrupted bytes, error statuses) and to inspect
// the requests it saw.
package hubtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// DefaultToken is the token the server accepts for gated repos.
const DefaultToken = "hf_test_token"

// Server is a fake Hub plus its CDN.
type Server struct {
	URL    string // the Hub endpoint
	CDNURL string // where LFS files redirect to (another port: another host for the client)
	Token  string // accepted for gated repos

	hub, cdn *httptest.Server
	closing  chan struct{}

	mu        sync.Mutex // guards the fields below
	repos     map[string]Repo
	faults    map[string]*Fault // by file path
	apiFaults []Fault
	requests  []Request
	changed   chan struct{} // closed (and replaced) when requests changes: Await's wake-up
	pageSize  int
}

// Fault changes how the server answers requests for one file (or the API).
type Fault struct {
	Status     int    // answer with this status and no body (e.g. 500, 429)
	RetryAfter string // Retry-After header with Status
	StallAfter int64  // send this many bytes, then hang until the client gives up; 0 = off
	DropAfter  int64  // send this many bytes, then cut the connection; 0 = off
	Corrupt    bool   // flip one byte of what is sent
	// Times is how many requests the fault applies to before it clears; 0 means every one.
	Times int
}

// Request is one request the servers saw.
type Request struct {
	Server        string // "hub" or "cdn"
	Method        string
	Path          string
	Query         url.Values
	Range         string
	Authorization string
	// File is the repo file whose bytes this request was answered with ("" for API
	// calls and for the Hub's 302 of an LFS file: the CDN request that follows has it).
	File string
}

// NewServer starts the fake Hub and CDN; both stop at the end of the test.
func NewServer(t testing.TB, repos ...Repo) *Server {
	t.Helper()
	s := &Server{Token: DefaultToken, repos: map[string]Repo{}, faults: map[string]*Fault{}, closing: make(chan struct{}), changed: make(chan struct{})}
	for _, r := range repos {
		s.AddRepo(r)
	}
	s.cdn = httptest.NewServer(http.HandlerFunc(s.serveCDN))
	s.hub = httptest.NewServer(http.HandlerFunc(s.serveHub))
	s.URL, s.CDNURL = s.hub.URL, s.cdn.URL
	t.Cleanup(func() {
		close(s.closing) // release stalled handlers first, or Close would wait for them
		s.hub.Close()
		s.cdn.Close()
	})
	return s
}

// AddRepo adds (or replaces) a repo.
func (s *Server) AddRepo(r Repo) {
	r = r.normalize()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.repos[r.ID] = r
}

// Repo returns the repo as served (with its commit filled in).
func (s *Server) Repo(id string) (Repo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.repos[id]
	return r, ok
}

// SetFault installs a fault for every request that serves bytes of file path (in any
// repo); a zero Fault removes it.
func (s *Server) SetFault(path string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == (Fault{}) {
		delete(s.faults, path)
		return
	}
	s.faults[path] = &f
}

// FailAPI makes the next API (/api/...) requests fail, one fault per request.
func (s *Server) FailAPI(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apiFaults = append(s.apiFaults, faults...)
}

// SetTreePageSize makes the tree route paginate with Link headers; 0 turns it off.
func (s *Server) SetTreePageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = n
}

// Requests returns every request seen so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// RangeRequests counts the GET requests answered with bytes of file path that carried
// a Range header (a resume).
func (s *Server) RangeRequests(path string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == http.MethodGet && r.File == path && r.Range != "" {
			n++
		}
	}
	return n
}

// FileRequests counts the GET requests answered with bytes of file path.
func (s *Server) FileRequests(path string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.Method == http.MethodGet && r.File == path {
			n++
		}
	}
	return n
}

// record logs a request and returns its index for setFile.
func (s *Server) record(server string, r *http.Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, Request{Server: server, Method: r.Method, Path: r.URL.Path,
		Query: r.URL.Query(), Range: r.Header.Get("Range"), Authorization: r.Header.Get("Authorization")})
	s.notifyLocked()
	return len(s.requests) - 1
}

func (s *Server) setFile(i int, path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[i].File = path
	s.notifyLocked()
}

// notifyLocked wakes every Await.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Await returns once cond holds, evaluating it again after every request the
// servers record, or ctx's error: a test waits for the download it drives to
// reach the server (cond may call Requests, RangeRequests, FileRequests)
// without polling.
func (s *Server) Await(ctx context.Context, cond func() bool) error {
	for {
		s.mu.Lock()
		changed := s.changed // taken before cond runs: no request slips between the two
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// takeFault returns the fault for path, counting down its Times.
func (s *Server) takeFault(path string) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.faults[path]
	if !ok {
		return Fault{}
	}
	out := *f
	if f.Times > 0 {
		f.Times--
		if f.Times == 0 {
			delete(s.faults, path)
		}
	}
	return out
}

func (s *Server) takeAPIFault() (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.apiFaults) == 0 {
		return Fault{}, false
	}
	f := s.apiFaults[0]
	s.apiFaults = s.apiFaults[1:]
	return f, true
}

// serveHub routes by hand: the Hub's URL space (/api/models/{org}/{name}/... next to
// /{org}/{name}/resolve/...) is ambiguous for http.ServeMux patterns.
func (s *Server) serveHub(w http.ResponseWriter, r *http.Request) {
	idx := s.record("hub", r)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	seg, err := segments(r.URL.EscapedPath())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if len(seg) >= 2 && seg[0] == "api" && seg[1] == "models" {
		if f, ok := s.takeAPIFault(); ok && f.Status != 0 {
			writeFault(w, f)
			return
		}
		s.serveAPI(w, r, seg[2:])
		return
	}
	if len(seg) >= 5 && seg[2] == "resolve" {
		s.serveResolve(w, r, idx, seg[0]+"/"+seg[1], seg[3], strings.Join(seg[4:], "/"))
		return
	}
	http.NotFound(w, r)
}

// segments splits an escaped path and unescapes each element, so %2F stays inside one.
func segments(escaped string) ([]string, error) {
	parts := strings.Split(strings.Trim(escaped, "/"), "/")
	for i, p := range parts {
		u, err := url.PathUnescape(p)
		if err != nil {
			return nil, err
		}
		parts[i] = u
	}
	return parts, nil
}

func writeFault(w http.ResponseWriter, f Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	w.WriteHeader(f.Status)
}
