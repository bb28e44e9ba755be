package hubtest

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// serveResolve answers /{repo}/resolve/{rev}/{path}: LFS files with a 302 to the CDN
// (metadata on the redirect itself, as the Hub does), other files directly.
func (s *Server) serveResolve(w http.ResponseWriter, r *http.Request, idx int, id, rev, path string) {
	repo, ok := s.access(w, r, id, rev)
	if !ok {
		return
	}
	f, ok := repo.file(path)
	if !ok {
		hubError(w, http.StatusNotFound, "EntryNotFound", fmt.Sprintf("%s does not exist on %q", path, rev))
		return
	}
	h := w.Header()
	h.Set("X-Repo-Commit", repo.Commit)
	h.Set("Accept-Ranges", "bytes")
	if f.LFS {
		sum := f.sha256()
		h.Set("ETag", `"`+f.blobID()+`"`)
		h.Set("X-Linked-Etag", `"`+sum+`"`)
		h.Set("X-Linked-Size", strconv.Itoa(len(f.Data)))
		loc := s.CDNURL + "/repos/" + sum[:2] + "/" + sum + "?" + url.Values{"file": {path}, "X-Amz-Signature": {"fake"}}.Encode()
		h.Set("Location", loc)
		w.WriteHeader(http.StatusFound)
		return
	}
	h.Set("ETag", `"`+f.blobID()+`"`)
	s.setFile(idx, path)
	s.serveBytes(w, r, f.Data, s.takeFault(path))
}

// serveCDN serves LFS content by sha256, ignoring (but recording) any Authorization.
func (s *Server) serveCDN(w http.ResponseWriter, r *http.Request) {
	idx := s.record("cdn", r)
	sum := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	data, ok := s.blobBySHA(sum)
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", `"`+sum+`"`)
	w.Header().Set("Accept-Ranges", "bytes")
	file := r.URL.Query().Get("file")
	s.setFile(idx, file)
	s.serveBytes(w, r, data, s.takeFault(file))
}

func (s *Server) blobBySHA(sum string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, repo := range s.repos {
		for _, f := range repo.Files {
			if f.LFS && f.sha256() == sum {
				return f.Data, true
			}
		}
	}
	return nil, false
}

// serveBytes answers a GET or HEAD for data, honouring "Range: bytes=N-" / "bytes=N-M"
// with 206 and applying fault.
func (s *Server) serveBytes(w http.ResponseWriter, r *http.Request, data []byte, fault Fault) {
	if fault.Status != 0 {
		writeFault(w, fault)
		return
	}
	status, body := http.StatusOK, data
	if rg := r.Header.Get("Range"); rg != "" {
		start, end, ok := parseRange(rg, len(data))
		if !ok {
			w.Header().Set("Content-Range", fmt.Sprintf("bytes */%d", len(data)))
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		status, body = http.StatusPartialContent, data[start:end+1]
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, len(data)))
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	if fault.Corrupt && len(body) > 0 {
		body = append([]byte(nil), body...)
		body[len(body)/2] ^= 0xff
	}
	switch {
	case fault.StallAfter > 0 && fault.StallAfter < int64(len(body)):
		_, _ = w.Write(body[:fault.StallAfter])
		http.NewResponseController(w).Flush()
		select { // hang with the connection open until the client gives up
		case <-r.Context().Done():
		case <-s.closing:
		}
	case fault.DropAfter > 0 && fault.DropAfter < int64(len(body)):
		_, _ = w.Write(body[:fault.DropAfter])
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler) // net/http closes the connection without logging
	default:
		_, _ = w.Write(body)
	}
}

// parseRange reads a single "bytes=N-" or "bytes=N-M" range.
func parseRange(v string, size int) (start, end int, ok bool) {
	spec, found := strings.CutPrefix(v, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return 0, 0, false
	}
	start, err := strconv.Atoi(a)
	if err != nil || start < 0 || start >= size {
		return 0, 0, false
	}
	end = size - 1
	if b != "" {
		if end, err = strconv.Atoi(b); err != nil || end < start {
			return 0, 0, false
		}
		end = min(end, size-1)
	}
	return start, end, true
}
