package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

// downloadView is a download as the API shows it. task_id and download_id are the
// same id: the UI's older client reads the one, the progress stream the other.
type downloadView struct {
	TaskID     string                `json:"task_id"`
	DownloadID string                `json:"download_id"`
	ModelID    string                `json:"model_id"`
	Revision   string                `json:"revision"`
	Commit     string                `json:"commit,omitempty"`
	Status     engine.DownloadStatus `json:"status"`
	BytesDone  int64                 `json:"bytes_done"`
	BytesTotal int64                 `json:"bytes_total"`
	Percent    float64               `json:"percent"`
	SpeedBPS   float64               `json:"speed_bps"`   // moving average, bytes per second
	ETASeconds float64               `json:"eta_seconds"` // 0 when unknown
	Files      []fileView            `json:"files"`
	Error      string                `json:"error,omitempty"`
	CreatedAt  time.Time             `json:"created_at"`
	UpdatedAt  time.Time             `json:"updated_at"`
}

type fileView struct {
	Path   string                `json:"path"`
	Size   int64                 `json:"size"`
	Done   int64                 `json:"done"`
	Status engine.DownloadStatus `json:"status"`
}

func viewDownload(p engine.Download) downloadView {
	v := downloadView{
		TaskID: p.TaskID, DownloadID: p.TaskID, ModelID: p.Repo, Revision: p.Revision, Commit: p.Commit,
		Status: p.Status, BytesDone: p.BytesDone, BytesTotal: p.BytesTotal, SpeedBPS: p.Speed,
		ETASeconds: p.ETA.Seconds(), Error: p.Error, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
		Files: make([]fileView, 0, len(p.Files)),
	}
	if p.BytesTotal > 0 {
		v.Percent = float64(p.BytesDone) * 100 / float64(p.BytesTotal)
	}
	for _, f := range p.Files {
		v.Files = append(v.Files, fileView{Path: f.Path, Size: f.Size, Done: f.Done, Status: f.Status})
	}
	return v
}

func (s *Server) needDownloads() (*engine.Engine, error) {
	if s.opts.Engine == nil || !s.opts.Engine.HasDownloads() {
		return nil, errNoHub()
	}
	return s.opts.Engine, nil
}

// downloadRequest is POST /api/models/download's body.
type downloadRequest struct {
	ModelID string `json:"model_id"`
}

// handleStartDownload starts (or joins) the download of a model. The download
// belongs to the manager: it goes on when this request ends.
func (s *Server) handleStartDownload(c echo.Context) error {
	m, err := s.needDownloads()
	if err != nil {
		return err
	}
	var req downloadRequest
	if err := decodeStrictJSON(c, &req); err != nil {
		return err
	}
	ref, err := modelRef("model_id", req.ModelID)
	if err != nil {
		return err
	}
	if err := s.checkOnline(); err != nil {
		return err
	}
	d, err := m.StartDownload(c.Request().Context(), ref)
	if err != nil {
		return err
	}
	s.audit(c, store.AuditEvent{Action: "model.download", Model: req.ModelID, Target: d.TaskID})
	return c.JSON(http.StatusAccepted, viewDownload(d))
}

// handleListDownloads lists active and recently finished downloads, oldest first.
func (s *Server) handleListDownloads(c echo.Context) error {
	m, err := s.needDownloads()
	if err != nil {
		return err
	}
	list := m.Downloads()
	out := make([]downloadView, 0, len(list))
	for _, p := range list {
		out = append(out, viewDownload(p))
	}
	return c.JSON(http.StatusOK, out)
}

// handleClearDownloads removes finished downloads (completed, cancelled, failed)
// from the list: the downloads card's "Clear finished". Models stay on disk.
func (s *Server) handleClearDownloads(c echo.Context) error {
	m, err := s.needDownloads()
	if err != nil {
		return err
	}
	n := m.ClearDownloads()
	if n > 0 {
		s.audit(c, store.AuditEvent{Action: "model.downloads_clear", Detail: fmt.Sprintf("%d cleared", n)})
	}
	return c.JSON(http.StatusOK, map[string]int{"cleared": n})
}

// handleDownloadProgress streams one download: its current state first, then every
// change, ending after a final status. Any number of clients may watch at once; a
// slow one skips intermediate updates, never the final one.
func (s *Server) handleDownloadProgress(c echo.Context) error {
	m, err := s.needDownloads()
	if err != nil {
		return err
	}
	updates, cancel, err := m.WatchDownload(c.Param("task_id"))
	if err != nil {
		return err
	}
	defer cancel()
	st := s.newSSE(c)
	defer st.close()
	recheck := time.NewTicker(s.timing.CredentialRecheck)
	defer recheck.Stop()
	for {
		select {
		case p, ok := <-updates:
			if !ok {
				return nil // final status sent, or the manager closed
			}
			if err := st.send("", viewDownload(p)); err != nil {
				return nil
			}
			if p.Status.Final() {
				return nil
			}
		case <-recheck.C:
			if !s.stillAllowed(c) {
				return nil
			}
		case <-st.ctx.Done():
			return nil // the client went away, or shutdown
		}
	}
}

// downloadControl is pause, resume or cancel of one task;
// engine.CheckDownloadAction says in which states each applies.
type downloadControl struct {
	action engine.DownloadAction // also the audit suffix
}

var (
	pauseDownload  = downloadControl{action: engine.DownloadPause}
	resumeDownload = downloadControl{action: engine.DownloadResume}
	cancelDownload = downloadControl{action: engine.DownloadCancel}
)

// handle answers with the task's state after the action.
func (dc downloadControl) handle(s *Server) echo.HandlerFunc {
	return func(c echo.Context) error {
		m, err := s.needDownloads()
		if err != nil {
			return err
		}
		id := c.Param("id")
		d, err := m.DownloadState(id)
		if err != nil {
			return err
		}
		st := d.Status
		if err := engine.CheckDownloadAction(st, dc.action); err != nil {
			return &Error{Kind: engine.KindConflict, Code: "download_" + string(st), Message: err.Error(), Err: err}
		}
		if dc.action == engine.DownloadResume {
			if err := s.checkOnline(); err != nil {
				return err
			}
		}
		after, err := m.ControlDownload(c.Request().Context(), id, dc.action)
		if err != nil {
			return controlError(err)
		}
		s.audit(c, store.AuditEvent{Action: "model.download." + string(dc.action), Model: d.Repo, Target: id})
		return c.JSON(http.StatusOK, viewDownload(after))
	}
}

// controlError maps a failed pause, resume or cancel: the manager's plain errors
// there are all races with the task's own state changes.
func controlError(err error) error {
	var e *Error
	if _, known := engine.Classify(err); known || errors.As(err, &e) {
		return err
	}
	return &Error{Kind: engine.KindConflict, Code: "download_state", Message: err.Error(), Err: err}
}
