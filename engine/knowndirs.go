package engine

import (
	"os"
	"path/filepath"
	"sync"
	"time"
)

// knownDirs remembers the models of the models dir that acquire found whole,
// with the times that change when one is deleted or downloaded again: a
// request for a model then stats two paths instead of walking its snapshot
// and resolving every file to its blob, which took ~140 µs a request on a
// 2-core Zen 1, paid by every request a daemon serves (issue #24). Loads still
// check the folder in full (loader.Estimate and Load); a model deleted or
// replaced is walked again at its next request.
type knownDirs struct {
	mu sync.Mutex
	m  map[string]dirStamp // guarded by mu; by model id
}

// dirStamp is what was seen of a model's folder when it was last found whole.
type dirStamp struct {
	ref, snapshot string    // refs/main and the snapshot folder it names
	refTime       time.Time // refs/main's modification time: a new download rewrites it
	snapTime      time.Time // the snapshot folder's: a file added or removed changes it
}

// checkModel is resolveDir for a request's model, which it only needs to exist.
func (e *Engine) checkModel(id string) error {
	if _, ok := e.local.get(id); ok || looksLikePath(id) {
		_, err := e.resolveDir(id)
		return err
	}
	if e.known.fresh(id) {
		return nil
	}
	m, err := e.cache.Model(id)
	if err != nil {
		_, err = e.resolveDir(id) // its error says what is missing
		return err
	}
	e.known.put(id, filepath.Join(m.Dir, "refs", "main"), m.SnapshotDir)
	return nil
}

func (k *knownDirs) fresh(id string) bool {
	k.mu.Lock()
	st, ok := k.m[id]
	k.mu.Unlock()
	if !ok {
		return false
	}
	ref, rerr := os.Stat(st.ref)
	snap, serr := os.Stat(st.snapshot)
	return rerr == nil && serr == nil && ref.ModTime().Equal(st.refTime) && snap.ModTime().Equal(st.snapTime)
}

// put stamps a model just found whole. A change between the walk and these
// stats goes unseen until the next one, which costs nothing: the stamp only
// lets a request reach the pool, whose loads check the folder in full.
func (k *knownDirs) put(id, ref, snapshot string) {
	rs, rerr := os.Stat(ref)
	ss, serr := os.Stat(snapshot)
	if rerr != nil || serr != nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]dirStamp{}
	}
	k.m[id] = dirStamp{ref: ref, snapshot: snapshot, refTime: rs.ModTime(), snapTime: ss.ModTime()}
}
