package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/api"
	"github.com/mlx-manager/mlx-manager/api/auth"
	"github.com/mlx-manager/mlx-manager/store"
	"github.com/mlx-manager/mlx-manager/store/storetest"
)

// AdminEmail and Password are what Admin registers with.
const (
	AdminEmail = "admin@example.com"
	Password   = "correct horse battery"
)

// Server is a running API server.
type Server struct {
	URL     string // http://127.0.0.1:port
	Addr    string // 127.0.0.1:port
	DataDir string
	Store   *store.Store
	API     *api.Server
	Clock   *storetest.Clock // drives tokens, login limits, store and audit times
	Client  *http.Client
}

// Options adjust the server; the zero value is fine.
type Options struct {
	// Configure, when set, may change the api.Options before the server is built.
	Configure func(*api.Options)
}

// Start runs a server until the test ends; the store is checked for consistency then.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	clock := storetest.NewClock()
	dir := tb.TempDir()
	st := storetest.OpenDir(tb, dir, store.Options{Now: clock.Now})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	params := auth.TestParams
	o := api.Options{
		Addr: ln.Addr().String(), Version: "test", Store: st, Now: clock.Now,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		JWTSecret:      []byte("apitest-jwt-secret-0123456789abcdef"),
		PasswordParams: &params,
	}
	if opts.Configure != nil {
		opts.Configure(&o)
	}
	srv, err := api.New(o)
	if err != nil {
		ln.Close()
		tb.Fatal(err)
	}
	// No fixed timeout: under -race on a loaded machine a generation can take
	// longer than any constant (TestQwenTools failed at 30 s). A hung request
	// is go test -timeout's to catch; the client gives up just before it, so
	// the failure names the request.
	client := &http.Client{}
	if d, ok := tb.(interface{ Deadline() (time.Time, bool) }); ok {
		if deadline, ok := d.Deadline(); ok {
			client.Timeout = max(time.Until(deadline)-10*time.Second, time.Second)
		}
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	tb.Cleanup(func() {
		// A connection the client dialled but never used counts as busy for 5 s.
		client.CloseIdleConnections()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			tb.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			tb.Errorf("serve: %v", err)
		}
	})
	return &Server{
		URL: "http://" + ln.Addr().String(), Addr: ln.Addr().String(), DataDir: dir,
		Store: st, API: srv, Clock: clock, Client: client,
	}
}

// Do sends a request. body may be nil, a string or []byte (sent as is), url.Values
// (sent as a form) or anything else (sent as JSON). token, when set, goes in
// Authorization: Bearer. The caller closes the response body.
func (s *Server) Do(tb testing.TB, method, path, token string, body any) *http.Response {
	tb.Helper()
	var (
		r     io.Reader
		ctype string
	)
	switch b := body.(type) {
	case nil:
	case string:
		r, ctype = strings.NewReader(b), "application/json"
	case []byte:
		r, ctype = bytes.NewReader(b), "application/json"
	case url.Values:
		r, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		r, ctype = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, s.URL+path, r)
	if err != nil {
		tb.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// JSON sends a request, fails the test unless the status is want, and decodes the
// response into out when out is not nil.
func (s *Server) JSON(tb testing.TB, method, path, token string, body any, want int, out any) {
	tb.Helper()
	resp := s.Do(tb, method, path, token, body)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if resp.StatusCode != want {
		tb.Fatalf("%s %s: status %d, want %d; body %s", method, path, resp.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			tb.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
}

// ErrorBody is the OpenAI error envelope's inside.
type ErrorBody struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// Error sends a request, fails the test unless the status is want, and returns the
// decoded error envelope.
func (s *Server) Error(tb testing.TB, method, path, token string, body any, want int) ErrorBody {
	tb.Helper()
	var env struct {
		Error ErrorBody `json:"error"`
	}
	s.JSON(tb, method, path, token, body, want, &env)
	if env.Error.Message == "" {
		tb.Fatalf("%s %s: no error message in the %d response", method, path, want)
	}
	return env.Error
}

// User is a user as the API returns it.
type User struct {
	ID      string `json:"id"`
	Email   string `json:"email"`
	IsAdmin bool   `json:"is_admin"`
	Status  string `json:"status"`
}

// Register creates an account and returns it.
func (s *Server) Register(tb testing.TB, email, password string) User {
	tb.Helper()
	var u User
	s.JSON(tb, "POST", "/api/auth/register", "", map[string]string{"email": email, "password": password}, http.StatusCreated, &u)
	return u
}

// Login signs in and returns the access token.
func (s *Server) Login(tb testing.TB, email, password string) string {
	tb.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	s.JSON(tb, "POST", "/api/auth/login", "", map[string]string{"email": email, "password": password}, http.StatusOK, &tok)
	return tok.AccessToken
}

// Admin registers the first user (the admin) and returns its token.
func (s *Server) Admin(tb testing.TB) string {
	tb.Helper()
	s.Register(tb, AdminEmail, Password)
	return s.Login(tb, AdminEmail, Password)
}

// ApprovedUser registers email, has adminToken approve it, and returns the user and
// a token for it.
func (s *Server) ApprovedUser(tb testing.TB, adminToken, email string) (User, string) {
	tb.Helper()
	u := s.Register(tb, email, Password)
	s.JSON(tb, "PUT", "/api/auth/users/"+u.ID, adminToken, map[string]string{"status": "approved"}, http.StatusOK, &u)
	return u, s.Login(tb, email, Password)
}

// WSURL is the ws:// URL of path.
func (s *Server) WSURL(path string) string { return "ws://" + s.Addr + path }

// String names the server in failure messages.
func (s *Server) String() string { return fmt.Sprintf("api server %s (data %s)", s.URL, s.DataDir) }
