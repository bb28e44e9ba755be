package api

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/api/ollama"
	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

// handleOllamaPull is POST /api/pull: it starts (or joins) the download of a
// Hugging Face repo with the manager the web app's downloads use, and streams
// its progress as Ollama's NDJSON status lines. The download belongs to the
// manager: a client that leaves does not cancel it, and pulling again joins it,
// as Ollama resumes a cancelled pull.
func (s *Server) handleOllamaPull(c echo.Context) error {
	m, err := s.needDownloads()
	if err != nil {
		return err
	}
	var req ollama.PullRequest
	if err := decodeOllama(c, &req); err != nil {
		return err
	}
	name := req.Model
	if name == "" {
		name = req.Name
	}
	repo := strings.TrimSuffix(name, ":latest")
	auditRecord(c).Model = repo
	ref, err := engine.ParseModelRef(repo)
	if err != nil {
		return &Error{Kind: engine.KindInvalid, Code: "invalid_repo_id", Param: "model",
			Message: fmt.Sprintf("cannot pull %q: name a Hugging Face repo id such as mlx-community/Qwen3-0.6B-4bit (Ollama library names and tags other than :latest do not exist there)", name)}
	}
	if err := s.checkOnline(); err != nil {
		return err
	}
	// The download outlives this request (the manager owns it), so it does not
	// start with the request's context.
	d, err := m.StartDownload(c.Request().Context(), ref)
	if err != nil {
		return err
	}
	s.audit(c, store.AuditEvent{Action: "model.download", Model: repo, Target: d.TaskID})
	updates, cancel, err := m.WatchDownload(d.TaskID)
	if err != nil {
		return err
	}
	defer cancel()
	if !ollama.Streaming(req.Stream) {
		for {
			select {
			case p, ok := <-updates:
				if !ok {
					return errShuttingDown()
				}
				if p.Status.Final() {
					return pullOutcome(p, func(v ollama.ProgressResponse) error { return c.JSON(http.StatusOK, v) })
				}
			case <-c.Request().Context().Done():
				return c.Request().Context().Err()
			case <-s.done:
				return errShuttingDown()
			}
		}
	}
	st := s.newNDJSON(c)
	defer st.close()
	if err := st.send(ollama.ProgressResponse{Status: "pulling manifest"}); err != nil {
		return nil
	}
	for {
		select {
		case p, ok := <-updates:
			if !ok {
				return st.send(ollama.ErrorResponse{Error: "the server is shutting down"})
			}
			if p.Status == engine.DownloadCompleted && p.BytesTotal > 0 {
				// The last update before completion may have been skipped (a slow
				// reader gets the latest state, not every one): the final sizes.
				if err := st.send(pullProgress(engine.Download{Repo: p.Repo, BytesTotal: p.BytesTotal, BytesDone: p.BytesDone})); err != nil {
					return nil
				}
			}
			if p.Status.Final() {
				if err := pullOutcome(p, func(v ollama.ProgressResponse) error { return st.send(v) }); err != nil {
					e := toError(err)
					return st.send(ollama.ErrorResponse{Error: e.Message})
				}
				return nil
			}
			if err := st.send(pullProgress(p)); err != nil {
				return nil // the client left; the download goes on
			}
		case <-st.ctx.Done():
			return nil
		}
	}
}

// pullProgress is one download update as Ollama reports a layer: the repo
// stands for the layer's digest, since a repo is downloaded as one unit.
func pullProgress(p engine.Download) ollama.ProgressResponse {
	switch p.Status {
	case engine.DownloadVerifying:
		return ollama.ProgressResponse{Status: "verifying sha256 digest"}
	case engine.DownloadPaused:
		return ollama.ProgressResponse{Status: "paused " + p.Repo, Digest: p.Repo, Total: p.BytesTotal, Completed: p.BytesDone}
	}
	return ollama.ProgressResponse{Status: "pulling " + p.Repo, Digest: p.Repo, Total: p.BytesTotal, Completed: p.BytesDone}
}

// pullOutcome writes "success" for a completed download; a failed or
// cancelled one is an error.
func pullOutcome(p engine.Download, write func(ollama.ProgressResponse) error) error {
	switch p.Status {
	case engine.DownloadCompleted:
		return write(ollama.ProgressResponse{Status: "success"})
	case engine.DownloadCancelled:
		return &Error{Status: http.StatusConflict, Code: "download_cancelled", Message: "the download of " + p.Repo + " was cancelled"}
	}
	return &Error{Kind: engine.KindUnavailable, Code: "download_failed", Message: "the download of " + p.Repo + " failed: " + p.Error}
}
