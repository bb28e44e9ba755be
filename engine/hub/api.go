package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// SearchQuery selects models on the Hub.
type SearchQuery struct {
	Query  string // substring of the repo id
	Author string // organisation or user
	Limit  int    // default 20, at most 100
	// Filter lists tags that must all be present. nil means DefaultFilter; an empty,
	// non-nil slice means no tag filter.
	Filter []string
	// PipelineTag defaults to "text-generation"; "*" means any task.
	PipelineTag string
	// Sort is "downloads" (default), "likes", "lastModified", "createdAt" or "trendingScore";
	// always descending.
	Sort string
}

// DefaultFilter keeps search results to repos this program can run: MLX safetensors.
var DefaultFilter = []string{"mlx", "safetensors"}

var sortKeys = map[string]bool{"downloads": true, "likes": true, "lastModified": true, "createdAt": true, "trendingScore": true}

// searchExpand asks /api/models for exactly the fields ModelSummary carries.
var searchExpand = []string{"author", "downloads", "likes", "tags", "pipeline_tag", "library_name",
	"lastModified", "private", "gated", "safetensors", "usedStorage"}

// Search lists models matching q, most popular first.
func (c *Client) Search(ctx context.Context, q SearchQuery) ([]ModelSummary, error) {
	v, err := q.values()
	if err != nil {
		return nil, err
	}
	var out []ModelSummary
	_, err = c.getJSON(ctx, c.apiURL("/api/models", v), func(b []byte) error {
		var derr error
		out, derr = decodeSearch(b)
		return derr
	})
	if err != nil {
		return nil, fmt.Errorf("search models: %w", err)
	}
	return out, nil
}

func (q SearchQuery) values() (url.Values, error) {
	v := url.Values{}
	if q.Query != "" {
		v.Set("search", q.Query)
	}
	if q.Author != "" {
		v.Set("author", q.Author)
	}
	filter := q.Filter
	if filter == nil {
		filter = DefaultFilter
	}
	for _, f := range filter {
		v.Add("filter", f)
	}
	switch q.PipelineTag {
	case "":
		v.Set("pipeline_tag", "text-generation")
	case "*":
	default:
		v.Set("pipeline_tag", q.PipelineTag)
	}
	sort := q.Sort
	if sort == "" {
		sort = "downloads"
	}
	if !sortKeys[sort] {
		return nil, fmt.Errorf("search: unknown sort key %q", sort)
	}
	v.Set("sort", sort)
	v.Set("direction", "-1")
	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	v.Set("limit", strconv.Itoa(min(limit, 100)))
	for _, e := range searchExpand {
		v.Add("expand[]", e)
	}
	return v, nil
}

// ModelInfo describes repo at rev ("" for the default branch), with every file's size
// and LFS sha256.
func (c *Client) ModelInfo(ctx context.Context, repo, rev string) (*ModelInfo, error) {
	if err := checkRepoID(repo); err != nil {
		return nil, err
	}
	path := "/api/models/" + repo
	if rev != "" {
		path += "/revision/" + url.PathEscape(rev)
	}
	var info *ModelInfo
	_, err := c.getJSON(ctx, c.apiURL(path, url.Values{"blobs": {"true"}}), func(b []byte) error {
		var derr error
		info, derr = decodeModelInfo(b)
		return derr
	})
	if err != nil {
		return nil, fmt.Errorf("model info %s: %w", repo, err)
	}
	if err := checkCommit(info.SHA); err != nil {
		return nil, fmt.Errorf("model info %s: %w", repo, err)
	}
	return info, nil
}

// Tree lists every file of repo at rev ("" for main) with its size and LFS sha256,
// following the Hub's pagination.
func (c *Client) Tree(ctx context.Context, repo, rev string) ([]File, error) {
	if err := checkRepoID(repo); err != nil {
		return nil, err
	}
	if rev == "" {
		rev = "main"
	}
	next := c.apiURL("/api/models/"+repo+"/tree/"+url.PathEscape(rev), url.Values{"recursive": {"true"}})
	var all []File
	for page := 0; next != ""; page++ {
		if page > 10000 {
			return nil, fmt.Errorf("tree %s: %w: too many pages", repo, ErrBadResponse)
		}
		hdr, err := c.getJSON(ctx, next, func(b []byte) error {
			files, derr := decodeTree(b)
			all = append(all, files...)
			return derr
		})
		if err != nil {
			return nil, fmt.Errorf("tree %s: %w", repo, err)
		}
		next = c.nextLink(hdr.Get("Link"))
	}
	return all, nil
}

var linkNext = regexp.MustCompile(`<([^>]+)>\s*;\s*rel="?next"?`)

// nextLink returns the rel="next" target of a Link header if it stays on the endpoint.
func (c *Client) nextLink(h string) string {
	m := linkNext.FindStringSubmatch(h)
	if m == nil {
		return ""
	}
	u, err := url.Parse(m[1])
	if err != nil {
		return ""
	}
	u = c.endpoint.ResolveReference(u)
	if !c.sameOrigin(u) {
		return ""
	}
	return u.String()
}

// maxConfigSize bounds config.json: real ones are a few KB.
const maxConfigSize = 8 << 20

// Config returns the bytes of config.json at the head of repo's main branch.
func (c *Client) Config(ctx context.Context, repo string) ([]byte, error) {
	if err := checkRepoID(repo); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.openFile(ctx, repo, "main", "config.json", 0)
	if err != nil {
		return nil, fmt.Errorf("config of %s: %w", repo, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("config of %s: %w", repo, err)
	}
	if len(b) > maxConfigSize {
		return nil, fmt.Errorf("config of %s: %w: larger than %d bytes", repo, ErrBadResponse, maxConfigSize)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("config of %s: %w: not JSON", repo, ErrBadResponse)
	}
	return b, nil
}

// FileMeta is what a HEAD on a resolve URL tells about a file.
type FileMeta struct {
	Commit   string // X-Repo-Commit
	Etag     string // X-Linked-Etag (LFS sha256) or ETag (git blob id)
	Size     int64  // X-Linked-Size or Content-Length
	Location string // CDN URL of an LFS file, "" for files served directly
}

// FileMetadata does a HEAD on the file's resolve URL without following the CDN redirect.
func (c *Client) FileMetadata(ctx context.Context, repo, rev, path string) (FileMeta, error) {
	if err := checkRepoID(repo); err != nil {
		return FileMeta{}, err
	}
	if err := CheckFileName(path); err != nil {
		return FileMeta{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := c.newRequest(ctx, http.MethodHead, c.resolveURL(repo, rev, path))
	if err != nil {
		return FileMeta{}, err
	}
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := c.meta.Do(req)
	if err != nil {
		return FileMeta{}, fmt.Errorf("head %s/%s: %w", repo, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 300 || resp.StatusCode >= 400 {
		if err := c.checkStatus(resp); err != nil {
			return FileMeta{}, fmt.Errorf("head %s/%s: %w", repo, path, err)
		}
	}
	m := FileMeta{Commit: resp.Header.Get("X-Repo-Commit"), Location: resp.Header.Get("Location")}
	m.Etag = normalizeEtag(resp.Header.Get("X-Linked-Etag"))
	if m.Etag == "" {
		m.Etag = normalizeEtag(resp.Header.Get("ETag"))
	}
	size := resp.Header.Get("X-Linked-Size")
	if size == "" {
		size = resp.Header.Get("Content-Length")
	}
	m.Size, _ = strconv.ParseInt(size, 10, 64)
	return m, nil
}

func (c *Client) resolveURL(repo, rev, path string) string {
	if rev == "" {
		rev = "main"
	}
	return c.apiURL("/"+repo+"/resolve/"+url.PathEscape(rev)+"/"+escapeFilePath(path), nil)
}

// openFile GETs a file, from offset on when offset > 0, following the CDN redirect.
// The caller closes the body and checks for 206 vs 200.
func (c *Client) openFile(ctx context.Context, repo, rev, path string, offset int64) (*http.Response, error) {
	req, err := c.newRequest(ctx, http.MethodGet, c.resolveURL(repo, rev, path))
	if err != nil {
		return nil, err
	}
	// Identity keeps byte offsets meaningful for Range resumes.
	req.Header.Set("Accept-Encoding", "identity")
	if offset > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s/%s: %w", repo, path, err)
	}
	if resp.StatusCode == http.StatusRequestedRangeNotSatisfiable {
		return resp, nil
	}
	if err := c.checkStatus(resp); err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("get %s/%s: %w", repo, path, err)
	}
	return resp, nil
}

// repoPageURL is where a user accepts a gated repo's licence.
func (c *Client) repoPageURL(repo string) string {
	return strings.TrimRight(c.endpoint.String(), "/") + "/" + repo
}
