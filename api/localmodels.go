package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

// localModelRequest is POST /api/models/local's body: a model folder on the
// server's disk (a local conversion, LM Studio's models dir) and the name
// requests will use for it, "local/<name>".
type localModelRequest struct {
	Name string `json:"name"` // "m" or "local/m"
	Path string `json:"path"` // absolute; symlinks are resolved when it is registered
}

// handleRegisterLocalModel registers a folder under a local/ name (admins
// only). Requests never name folders: only the names registered here resolve
// to one.
func (s *Server) handleRegisterLocalModel(c echo.Context) error {
	var req localModelRequest
	if err := decodeStrictJSON(c, &req); err != nil {
		return err
	}
	e, err := s.needEngine()
	if err != nil {
		return err
	}
	ref, err := engine.ParseLocalName(req.Name)
	if err != nil {
		return &Error{Kind: engine.KindInvalid, Code: "invalid_local_name", Param: "name", Message: err.Error(), Err: err}
	}
	dir, err := engine.CheckLocalFolder(req.Path)
	if err != nil {
		return &Error{Kind: engine.KindInvalid, Code: "invalid_local_folder", Param: "path", Message: err.Error(), Err: err}
	}
	u, _ := currentUser(c)
	if _, err := s.store.LocalModels().Add(store.LocalModel{Name: ref.String(), Path: dir, AddedBy: u.ID}); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return &Error{Kind: engine.KindConflict, Code: "local_model_exists", Param: "name",
				Message: fmt.Sprintf("%s is registered already: delete it first to point it at another folder", ref), Err: err}
		}
		return err
	}
	if err := e.AddLocalModel(ref, dir); err != nil {
		if rerr := s.store.LocalModels().Remove(ref.String()); rerr != nil {
			s.log.Error("undo local model registration", "model", ref.String(), "err", rerr)
		}
		return err
	}
	s.audit(c, store.AuditEvent{Action: "model.register", Model: ref.String(), Detail: dir})
	info, err := e.Model(c.Request().Context(), ref.String())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, info)
}

// unregisterLocal forgets a deleted local model in the store; the engine has
// unregistered it already (Engine.DeleteModel).
func (s *Server) unregisterLocal(id string) error {
	if err := s.store.LocalModels().Remove(id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// LoadLocalModels is the registry of local model folders the daemon starts
// its engine with (engine.Options.LocalModels).
func LoadLocalModels(st *store.Store) ([]engine.LocalFolder, error) {
	recs, err := st.LocalModels().List()
	if err != nil {
		return nil, err
	}
	out := make([]engine.LocalFolder, 0, len(recs))
	for _, r := range recs {
		out = append(out, engine.LocalFolder{Name: r.Name, Path: r.Path})
	}
	return out, nil
}
