package hub

import "sync"

// changes signals "some download changed" to manager-wide watchers: a task's
// progress or status, or a task added or retired. A signal carries no value and
// coalesces with one not yet read, so a slow watcher never blocks a download
// and never misses that something changed; it reads List for what.
type changes struct {
	mu   sync.Mutex // taken after any Task.mu and Manager.mu, never before
	next int
	chs  map[int]chan struct{} // guarded by mu
}

func (c *changes) notify() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range c.chs {
		select {
		case ch <- struct{}{}:
		default: // a signal is pending already
		}
	}
}

// Changes signals on the returned channel whenever any download changes, until
// cancel is called (which closes it). Read List after each signal.
func (m *Manager) Changes() (<-chan struct{}, func()) {
	c := &m.changes
	ch := make(chan struct{}, 1)
	c.mu.Lock()
	if c.chs == nil {
		c.chs = map[int]chan struct{}{}
	}
	c.next++
	id := c.next
	c.chs[id] = ch
	c.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			delete(c.chs, id)
			close(ch)
		})
	}
}
