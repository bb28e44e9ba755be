package hub_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"

	"github.com/mlx-manager/mlx-manager/engine/hub"
	"github.com/mlx-manager/mlx-manager/engine/hub/hubtest"
)

func newClient(t *testing.T, srv *hubtest.Server, token string) *hub.Client {
	t.Helper()
	c, err := hub.New(hub.Options{Endpoint: srv.URL, Token: token, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func searchRepos() []hubtest.Repo {
	return []hubtest.Repo{
		{ID: "mlx-community/Llama-3.2-1B-Instruct-4bit", Downloads: 500, Likes: 3, Tags: []string{"mlx", "safetensors", "llama"},
			Parameters: map[string]int64{"BF16": 100, "U32": 400},
			Files:      []hubtest.File{hubtest.RandomFile("config.json", 100, 1, false), hubtest.RandomFile("model.safetensors", 3000, 2, true)}},
		{ID: "mlx-community/Qwen3-0.6B-bf16", Downloads: 900, Likes: 1, Tags: []string{"mlx", "safetensors", "qwen3"},
			Parameters: map[string]int64{"BF16": 600},
			Files:      []hubtest.File{hubtest.RandomFile("config.json", 50, 3, false)}},
		{ID: "someone/llama-gguf", Downloads: 10000, Tags: []string{"gguf"}, Library: "gguf"},
		{ID: "someone/bert", Downloads: 10, Tags: []string{"mlx", "safetensors"}, PipelineTag: "fill-mask"},
	}
}

func TestSearch(t *testing.T) {
	t.Parallel()
	srv := hubtest.NewServer(t, searchRepos()...)
	c := newClient(t, srv, "")
	ctx := context.Background()

	tests := []struct {
		name string
		q    hub.SearchQuery
		want []string
	}{
		{"defaults keep mlx text generation", hub.SearchQuery{}, []string{"mlx-community/Qwen3-0.6B-bf16", "mlx-community/Llama-3.2-1B-Instruct-4bit"}},
		{"query", hub.SearchQuery{Query: "llama"}, []string{"mlx-community/Llama-3.2-1B-Instruct-4bit"}},
		{"sort by likes", hub.SearchQuery{Sort: "likes"}, []string{"mlx-community/Llama-3.2-1B-Instruct-4bit", "mlx-community/Qwen3-0.6B-bf16"}},
		{"limit", hub.SearchQuery{Limit: 1}, []string{"mlx-community/Qwen3-0.6B-bf16"}},
		{"author", hub.SearchQuery{Author: "someone", Filter: []string{}, PipelineTag: "*"}, []string{"someone/llama-gguf", "someone/bert"}},
		{"no match", hub.SearchQuery{Query: "nothing-like-this"}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Search(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			ids := []string{}
			for _, m := range got {
				ids = append(ids, m.ID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("got %v, want %v", ids, tt.want)
			}
		})
	}

	got, err := c.Search(ctx, hub.SearchQuery{Query: "Llama-3.2"})
	if err != nil || len(got) != 1 {
		t.Fatalf("search: %v %v", got, err)
	}
	m := got[0]
	if m.Downloads != 500 || m.Likes != 3 || m.PipelineTag != "text-generation" || m.Library != "mlx" ||
		m.Parameters != 500 || m.TotalSize != 3100 || m.Quantization != "4bit" || m.LastModified.IsZero() || !slices.Contains(m.Tags, "llama") {
		t.Errorf("summary = %+v", m)
	}
	last := srv.Requests()[len(srv.Requests())-1]
	for _, field := range []string{"safetensors", "usedStorage", "downloads", "lastModified"} {
		if !slices.Contains(last.Query["expand[]"], field) {
			t.Errorf("search did not expand %q: %v", field, last.Query)
		}
	}
	if _, err := c.Search(ctx, hub.SearchQuery{Sort: "random"}); err == nil {
		t.Error("unknown sort key accepted")
	}
}

func TestModelInfoTreeConfig(t *testing.T) {
	t.Parallel()
	repo := hubtest.Repo{ID: "org/tiny", Files: []hubtest.File{
		{Path: "config.json", Data: []byte(`{"model_type":"llama"}`)},
		hubtest.RandomFile("model.safetensors", 5000, 7, true),
		hubtest.RandomFile("sub/dir/tokenizer.model", 300, 8, true),
	}}
	srv := hubtest.NewServer(t, repo)
	repo, _ = srv.Repo("org/tiny")
	c := newClient(t, srv, "")
	ctx := context.Background()

	info, err := c.ModelInfo(ctx, "org/tiny", "")
	if err != nil {
		t.Fatal(err)
	}
	if info.SHA != repo.Commit || len(info.Files) != 3 || info.TotalSize != 5000+300+22 {
		t.Fatalf("info = %+v", info)
	}
	for i, f := range info.Files {
		if f.Path != repo.Files[i].Path || f.Size != int64(len(repo.Files[i].Data)) || f.Etag() != repo.Files[i].Etag() {
			t.Errorf("file %d = %+v, want %s", i, f, repo.Files[i].Path)
		}
	}
	if _, err := c.ModelInfo(ctx, "org/tiny", repo.Commit); err != nil {
		t.Errorf("info at commit: %v", err)
	}

	srv.SetTreePageSize(1) // exercise Link pagination
	tree, err := c.Tree(ctx, "org/tiny", "main")
	if err != nil {
		t.Fatal(err)
	}
	if len(tree) != 3 || tree[2].Path != "sub/dir/tokenizer.model" || tree[2].LFS == nil || tree[2].LFS.SHA256 != hubtest.SHA256(repo.Files[2].Data) {
		t.Errorf("tree = %+v", tree)
	}

	cfg, err := c.Config(ctx, "org/tiny")
	if err != nil || string(cfg) != `{"model_type":"llama"}` {
		t.Errorf("config = %q, %v", cfg, err)
	}

	meta, err := c.FileMetadata(ctx, "org/tiny", "main", "model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if meta.Commit != repo.Commit || meta.Etag != repo.Files[1].Etag() || meta.Size != 5000 || meta.Location == "" {
		t.Errorf("metadata = %+v", meta)
	}
	for _, r := range srv.Requests() {
		if r.Server == "cdn" {
			t.Errorf("HEAD followed the redirect to the CDN: %+v", r)
		}
	}
}

func TestClientErrors(t *testing.T) {
	t.Parallel()
	srv := hubtest.NewServer(t,
		hubtest.Repo{ID: "org/open", Files: []hubtest.File{{Path: "config.json", Data: []byte(`{}`)}}},
		hubtest.Repo{ID: "org/gated", Gated: true, Files: []hubtest.File{{Path: "config.json", Data: []byte(`{}`)}}},
	)
	ctx := context.Background()
	anon, withToken, wrongToken := newClient(t, srv, ""), newClient(t, srv, hubtest.DefaultToken), newClient(t, srv, "hf_other")
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"unknown repo anonymous", func() error { _, err := anon.ModelInfo(ctx, "org/missing", ""); return err }, hub.ErrNotFound},
		{"unknown repo with token", func() error { _, err := withToken.ModelInfo(ctx, "org/missing", ""); return err }, hub.ErrNotFound},
		{"unknown revision", func() error { _, err := anon.ModelInfo(ctx, "org/open", "v9"); return err }, hub.ErrNotFound},
		{"missing file", func() error { _, err := anon.FileMetadata(ctx, "org/open", "main", "nope.json"); return err }, hub.ErrNotFound},
		{"gated without token", func() error { _, err := anon.ModelInfo(ctx, "org/gated", ""); return err }, hub.ErrGated},
		{"gated with another token", func() error { _, err := wrongToken.Config(ctx, "org/gated"); return err }, hub.ErrGated},
		{"invalid repo id", func() error { _, err := anon.ModelInfo(ctx, "../../etc", ""); return err }, hub.ErrInvalidRepoID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := withToken.Config(ctx, "org/gated"); err != nil {
		t.Errorf("gated repo with the right token: %v", err)
	}
	var se *hub.StatusError
	_, err := anon.ModelInfo(ctx, "org/gated", "")
	if !errors.As(err, &se) || se.Status != http.StatusUnauthorized || se.Code != "GatedRepo" {
		t.Errorf("gated error details: %#v", err)
	}
}

func TestRateLimitRetryAfter(t *testing.T) {
	t.Parallel()
	srv := hubtest.NewServer(t, searchRepos()...)
	c := newClient(t, srv, "")
	srv.FailAPI(hubtest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "0"}, hubtest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "0"})
	got, err := c.Search(context.Background(), hub.SearchQuery{})
	if err != nil || len(got) != 2 {
		t.Fatalf("search after two 429s: %v, %v", got, err)
	}

	srv.FailAPI(hubtest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "3600"})
	_, err = c.Search(context.Background(), hub.SearchQuery{})
	var se *hub.StatusError
	if !errors.Is(err, hub.ErrRateLimited) || !errors.As(err, &se) || se.RetryAfter.Hours() != 1 {
		t.Errorf("long Retry-After: %v", err)
	}
}

func TestOffline(t *testing.T) {
	t.Parallel()
	srv := hubtest.NewServer(t, searchRepos()...)
	c, err := hub.New(hub.Options{Endpoint: srv.URL, Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Search(ctx, hub.SearchQuery{}); !errors.Is(err, hub.ErrOffline) {
		t.Errorf("search offline: %v", err)
	}
	if _, err := c.ModelInfo(ctx, "mlx-community/Qwen3-0.6B-bf16", ""); !errors.Is(err, hub.ErrOffline) {
		t.Errorf("info offline: %v", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("offline client made %d requests", n)
	}
}

func TestLiveTokenAndOffline(t *testing.T) {
	t.Parallel()
	srv := hubtest.NewServer(t, searchRepos()...)
	c, err := hub.New(hub.Options{Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c.SetOffline(true)
	if _, err := c.Search(ctx, hub.SearchQuery{}); !errors.Is(err, hub.ErrOffline) || !c.Offline() {
		t.Fatalf("after SetOffline(true): %v", err)
	}
	c.SetOffline(false)
	c.SetToken("hf_live")
	if _, err := c.Search(ctx, hub.SearchQuery{}); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Authorization != "Bearer hf_live" {
		t.Fatalf("requests %+v, want one with the new token", reqs)
	}
}

func TestNewRejectsBadEndpoint(t *testing.T) {
	t.Parallel()
	for _, ep := range []string{"ftp://x", "not a url", "http://"} {
		if _, err := hub.New(hub.Options{Endpoint: ep}); err == nil {
			t.Errorf("endpoint %q accepted", ep)
		}
	}
}

func TestTokenNotSentToCDN(t *testing.T) {
	t.Parallel()
	repo := hubtest.Repo{ID: "org/lfsconfig", Files: []hubtest.File{{Path: "config.json", Data: []byte(`{"a":1}`), LFS: true}}}
	srv := hubtest.NewServer(t, repo)
	redirects := 0
	custom := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { redirects++; return nil }}
	c, err := hub.New(hub.Options{Endpoint: srv.URL, Token: "hf_secret", HTTPClient: custom})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := c.Config(context.Background(), "org/lfsconfig")
	if err != nil || string(cfg) != `{"a":1}` {
		t.Fatalf("config through the CDN: %q, %v", cfg, err)
	}
	if redirects != 1 {
		t.Errorf("caller's CheckRedirect ran %d times, want 1", redirects)
	}
	if custom.CheckRedirect == nil || redirects == 0 {
		t.Error("caller's client was modified or bypassed")
	}
	var sawHub, sawCDN bool
	for _, r := range srv.Requests() {
		switch r.Server {
		case "hub":
			sawHub = true
			if r.Authorization != "Bearer hf_secret" {
				t.Errorf("hub request without the token: %+v", r)
			}
		case "cdn":
			sawCDN = true
			if r.Authorization != "" {
				t.Errorf("token leaked to the CDN: %+v", r)
			}
		}
	}
	if !sawHub || !sawCDN {
		t.Errorf("requests did not go hub then CDN: %+v", srv.Requests())
	}
}
