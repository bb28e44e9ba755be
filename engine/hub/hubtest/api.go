package hubtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
)

const timeLayout = "2006-01-02T15:04:05.000Z"

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, rest []string) {
	switch {
	case len(rest) == 0:
		s.serveSearch(w, r)
	case len(rest) == 2:
		s.serveInfo(w, r, rest[0]+"/"+rest[1], "main")
	case len(rest) == 4 && rest[2] == "revision":
		s.serveInfo(w, r, rest[0]+"/"+rest[1], rest[3])
	case len(rest) >= 4 && rest[2] == "tree":
		s.serveTree(w, r, rest[0]+"/"+rest[1], rest[3], strings.Join(rest[4:], "/"))
	default:
		http.NotFound(w, r)
	}
}

// access finds repo and applies the Hub's auth rules; it has answered when ok is false.
func (s *Server) access(w http.ResponseWriter, r *http.Request, id, rev string) (Repo, bool) {
	repo, found := s.Repo(id)
	auth := r.Header.Get("Authorization")
	switch {
	case !found && auth == "":
		// Anonymous callers cannot tell a missing repo from a private one.
		hubError(w, http.StatusUnauthorized, "RepoNotFound", "Repository not found")
	case !found:
		hubError(w, http.StatusNotFound, "RepoNotFound", "Repository not found")
	case repo.Gated && auth == "":
		hubError(w, http.StatusUnauthorized, "GatedRepo", "Access to model "+id+" is restricted. You must have access to it and be authenticated to access it. Please log in.")
	case repo.Gated && auth != "Bearer "+s.Token:
		hubError(w, http.StatusForbidden, "GatedRepo", "Access to model "+id+" is restricted and you are not in the authorized list.")
	case rev != "main" && rev != repo.Commit:
		hubError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
	default:
		return repo, true
	}
	return Repo{}, false
}

func hubError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("X-Error-Code", code)
	w.Header().Set("X-Error-Message", msg)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

// defaultListFields are what /api/models returns without expand[].
var defaultListFields = []string{"likes", "trendingScore", "private", "downloads", "tags", "pipeline_tag", "library_name", "createdAt"}

func (s *Server) serveSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	var repos []Repo
	for _, repo := range s.repos {
		if matches(repo, q) {
			repos = append(repos, repo)
		}
	}
	s.mu.Unlock()
	sortRepos(repos, q.Get("sort"))
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n >= 0 && n < len(repos) {
		repos = repos[:n]
	}
	fields := append(q["expand[]"], q["expand"]...)
	if len(fields) == 0 {
		fields = defaultListFields
		if q.Get("full") == "true" {
			fields = append(fields, "author", "sha", "lastModified", "siblings", "gated", "disabled")
		}
	}
	out := make([]map[string]any, 0, len(repos))
	for _, repo := range repos {
		out = append(out, modelJSON(repo, fields, false))
	}
	writeJSON(w, out)
}

func matches(repo Repo, q url.Values) bool {
	for _, s := range q["search"] {
		if !strings.Contains(strings.ToLower(repo.ID), strings.ToLower(s)) {
			return false
		}
	}
	if a := q.Get("author"); a != "" && !strings.EqualFold(repo.author(), a) {
		return false
	}
	if p := q.Get("pipeline_tag"); p != "" && repo.PipelineTag != p {
		return false
	}
	for _, f := range q["filter"] {
		if !slices.Contains(repo.Tags, f) && repo.Library != f {
			return false
		}
	}
	return true
}

func sortRepos(repos []Repo, key string) {
	sort.Slice(repos, func(i, j int) bool {
		a, b := repos[i], repos[j]
		switch key {
		case "likes":
			if a.Likes != b.Likes {
				return a.Likes > b.Likes
			}
		case "lastModified":
			if !a.LastModified.Equal(b.LastModified) {
				return a.LastModified.After(b.LastModified)
			}
		default:
			if a.Downloads != b.Downloads {
				return a.Downloads > b.Downloads
			}
		}
		return a.ID < b.ID
	})
}

func (s *Server) serveInfo(w http.ResponseWriter, r *http.Request, id, rev string) {
	repo, ok := s.access(w, r, id, rev)
	if !ok {
		return
	}
	fields := append(r.URL.Query()["expand[]"], r.URL.Query()["expand"]...)
	if len(fields) == 0 {
		fields = []string{"author", "sha", "lastModified", "private", "disabled", "gated", "downloads", "likes",
			"library_name", "tags", "pipeline_tag", "createdAt", "siblings", "spaces", "safetensors", "usedStorage"}
	}
	writeJSON(w, modelJSON(repo, fields, r.URL.Query().Get("blobs") == "true"))
}

// modelJSON renders a repo with the Hub's field names; _id and id are always there.
func modelJSON(repo Repo, fields []string, blobs bool) map[string]any {
	m := map[string]any{"_id": repo.Commit[:24], "id": repo.ID, "modelId": repo.ID}
	for _, f := range fields {
		switch f {
		case "author":
			m[f] = repo.author()
		case "sha":
			m[f] = repo.Commit
		case "lastModified", "createdAt":
			m[f] = repo.LastModified.UTC().Format(timeLayout)
		case "private", "disabled":
			m[f] = false
		case "gated":
			m[f] = any(false)
			if repo.Gated {
				m[f] = "manual"
			}
		case "downloads":
			m[f] = repo.Downloads
		case "likes":
			m[f] = repo.Likes
		case "trendingScore":
			m[f] = 0
		case "library_name":
			m[f] = repo.Library
		case "tags":
			m[f] = append([]string{}, repo.Tags...)
		case "pipeline_tag":
			m[f] = repo.PipelineTag
		case "siblings":
			m[f] = siblingsJSON(repo, blobs)
		case "spaces":
			m[f] = []string{}
		case "usedStorage":
			m[f] = repo.size()
		case "safetensors":
			if len(repo.Parameters) > 0 {
				var total int64
				for _, n := range repo.Parameters {
					total += n
				}
				m[f] = map[string]any{"parameters": repo.Parameters, "total": total}
			}
		}
	}
	return m
}

func siblingsJSON(repo Repo, blobs bool) []map[string]any {
	out := make([]map[string]any, 0, len(repo.Files))
	for _, f := range repo.Files {
		sib := map[string]any{"rfilename": f.Path}
		if blobs {
			sib["size"] = len(f.Data)
			sib["blobId"] = f.blobID()
			if f.LFS {
				sib["lfs"] = map[string]any{"sha256": f.sha256(), "size": len(f.Data), "pointerSize": len(f.pointer())}
			}
		}
		out = append(out, sib)
	}
	return out
}

func (s *Server) serveTree(w http.ResponseWriter, r *http.Request, id, rev, dir string) {
	repo, ok := s.access(w, r, id, rev)
	if !ok {
		return
	}
	entries := treeEntries(repo, dir, r.URL.Query().Get("recursive") == "true")
	s.mu.Lock()
	pageSize := s.pageSize
	s.mu.Unlock()
	if pageSize > 0 {
		start, _ := strconv.Atoi(r.URL.Query().Get("cursor"))
		start = min(max(start, 0), len(entries))
		end := min(start+pageSize, len(entries))
		if end < len(entries) {
			next := *r.URL
			q := next.Query()
			q.Set("cursor", strconv.Itoa(end))
			next.RawQuery = q.Encode()
			w.Header().Set("Link", "<"+s.URL+next.RequestURI()+`>; rel="next"`)
		}
		entries = entries[start:end]
	}
	writeJSON(w, entries)
}

// treeEntries lists files and directories under dir like the Hub's tree route.
func treeEntries(repo Repo, dir string, recursive bool) []map[string]any {
	prefix := ""
	if dir != "" {
		prefix = dir + "/"
	}
	out := []map[string]any{}
	dirs := map[string]bool{}
	for _, f := range repo.Files {
		rel, ok := strings.CutPrefix(f.Path, prefix)
		if !ok {
			continue
		}
		parts := strings.Split(rel, "/")
		for i := 1; i < len(parts); i++ {
			d := prefix + strings.Join(parts[:i], "/")
			if !dirs[d] && (recursive || i == 1) {
				dirs[d] = true
				out = append(out, map[string]any{"type": "directory", "oid": GitBlobID([]byte(d)), "size": 0, "path": d})
			}
		}
		if len(parts) > 1 && !recursive {
			continue
		}
		e := map[string]any{"type": "file", "oid": f.blobID(), "size": len(f.Data), "path": f.Path}
		if f.LFS {
			e["lfs"] = map[string]any{"oid": f.sha256(), "size": len(f.Data), "pointerSize": len(f.pointer())}
		}
		out = append(out, e)
	}
	return out
}
