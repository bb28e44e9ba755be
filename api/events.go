package api

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/mlx-manager/mlx-manager/engine"
	"github.com/mlx-manager/mlx-manager/store"
)

// eventsSnapshot is the first event of /api/servers/events: the whole state, so
// a client needs no other request before following the deltas.
type eventsSnapshot struct {
	Servers   []serverView        `json:"servers"`
	Memory    engine.MemoryStatus `json:"memory"`
	Downloads []downloadView      `json:"downloads"`
}

// modelEvent is one step of a model's load or unload.
type modelEvent struct {
	Kind       engine.ModelEventKind `json:"kind"` // loading, ready, error, evicted, unloading, unloaded
	Model      string                `json:"model"`
	Reason     string                `json:"reason,omitempty"`
	Bytes      int64                 `json:"bytes,omitempty"`
	DurationMS float64               `json:"duration_ms,omitempty"`
	Error      string                `json:"error,omitempty"`
	Time       time.Time             `json:"time"`
}

func viewModelEvent(ev engine.ModelEvent) modelEvent {
	return modelEvent{Kind: ev.Kind, Model: ev.Model, Reason: ev.Reason, Bytes: ev.Bytes,
		DurationMS: millis(ev.Duration), Error: ev.Err, Time: ev.Time}
}

// handleServerEvents is the one live stream of the UI and the tray. Events:
// "snapshot" first; then "model" (a pool event) followed by "memory" (the memory
// after it); "download" when a download changes. It ends when the client goes
// away, the server shuts down or the client's credential stops being valid.
func (s *Server) handleServerEvents(c echo.Context) error {
	e, err := s.needEngine()
	if err != nil {
		return err
	}
	// Subscribe before the snapshot so no event falls in between.
	events, cancel := e.Subscribe()
	defer cancel()
	snap := eventsSnapshot{Memory: e.Memory(), Downloads: []downloadView{}}
	if snap.Servers, err = s.servers(e); err != nil {
		return err
	}
	dl := newDownloadWatch(e)
	snap.Downloads = dl.changed()

	st := s.newSSE(c)
	defer st.close()
	if st.send("snapshot", snap) != nil {
		return nil
	}
	recheck := time.NewTicker(s.timing.CredentialRecheck)
	defer recheck.Stop()
	changes, stopChanges := s.store.Changes()
	defer stopChanges()
	u, _ := currentUser(c)
	for {
		select {
		case ch, ok := <-changes:
			if !ok {
				return nil
			}
			if err := s.sendChange(st, u, ch); err != nil {
				return nil
			}
		case ev, ok := <-events:
			if !ok {
				return nil // the engine shut down
			}
			if ev.Topic == engine.TopicModel && st.send("model", viewModelEvent(ev.Model)) != nil {
				return nil
			}
			// After a model step, or after lost events, the memory and the
			// downloads are sent as they are now; the list diff sends only changes.
			if (ev.Topic == engine.TopicModel || ev.Lost) && st.send("memory", e.Memory()) != nil {
				return nil
			}
			if ev.Topic == engine.TopicDownloads || ev.Lost {
				for _, d := range dl.changed() {
					if st.send("download", d) != nil {
						return nil
					}
				}
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

// usersEvent tells an admin's page that accounts changed, with the count its
// badge shows, so the users page and the badge follow without polling.
type usersEvent struct {
	Pending int    `json:"pending"`
	ID      string `json:"id,omitempty"` // the account that changed; "" after lost events
}

// settingsEvent names a settings document that was written, for forms open
// elsewhere to re-read it.
type settingsEvent struct {
	Key string `json:"key,omitempty"` // "" after lost events: re-read them all
}

// sendChange forwards a store change to the stream: account changes to admins
// only (other users never see accounts), settings names to everyone signed in.
func (s *Server) sendChange(st *sseStream, u store.User, ch store.Change) error {
	id := ch.ID
	if ch.Lost {
		id = ""
	}
	switch ch.Topic {
	case store.ChangeUsers:
		// Read the role now: the account may have been demoted since the
		// stream opened.
		if cur, err := s.store.Users().Get(u.ID); err != nil || !cur.ActiveAdmin() {
			return nil
		}
		n, err := s.store.Users().CountPending()
		if err != nil {
			s.log.Warn("events: count pending users", "err", err)
			return nil
		}
		return st.send("users", usersEvent{Pending: n, ID: id})
	case store.ChangeSettings:
		return st.send("settings", settingsEvent{Key: id})
	}
	return nil
}

// stillAllowed re-checks a long stream's credential: the account may have been
// disabled, or its session revoked, since the stream opened.
func (s *Server) stillAllowed(c echo.Context) bool {
	return s.authenticate(c, credential(c, true)) == nil
}

// downloadWatch finds the downloads that changed since it last looked.
type downloadWatch struct {
	e    *engine.Engine
	seen map[string][]byte // task id → its last view, encoded
}

func newDownloadWatch(e *engine.Engine) *downloadWatch {
	return &downloadWatch{e: e, seen: map[string][]byte{}}
}

// changed returns the downloads whose view differs from the last call (all of them
// on the first call), oldest first.
func (w *downloadWatch) changed() []downloadView {
	out := []downloadView{}
	for _, p := range w.e.Downloads() {
		v := viewDownload(p)
		enc, err := json.Marshal(v)
		if err != nil || bytes.Equal(w.seen[v.TaskID], enc) {
			continue
		}
		w.seen[v.TaskID] = enc
		out = append(out, v)
	}
	return out
}
