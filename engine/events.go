package engine

import (
	"sync"

	"github.com/mlx-manager/mlx-manager/engine/hub"
)

// EventTopic says what an Event is about.
type EventTopic string

// The topics.
const (
	TopicModel     EventTopic = "model"     // Model is a lifecycle step of a model in memory
	TopicDownloads EventTopic = "downloads" // some download changed: read the download list
)

// Event is one change the engine publishes to its subscribers.
type Event struct {
	Topic EventTopic
	Model ModelEvent // with TopicModel
	// Lost says this subscriber fell behind and lost earlier events: it should
	// read the state again (models, memory, downloads) rather than trust deltas.
	Lost bool
}

// eventBuffer is how many events a subscriber may fall behind before it loses
// the oldest ones.
const eventBuffer = 64

// subscriber is one Subscribe call's channel.
type subscriber struct {
	ch   chan Event
	lost bool // guarded by bus.mu: an event was dropped since the last delivery
}

// bus fans events out without ever blocking the publisher: a full subscriber
// loses its oldest event, and the next event it gets says so (Lost).
type bus struct {
	mu     sync.Mutex
	subs   map[*subscriber]struct{} // guarded by mu
	closed bool                     // guarded by mu
}

func (b *bus) subscribe() (<-chan Event, func()) {
	s := &subscriber{ch: make(chan Event, eventBuffer)}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(s.ch)
		return s.ch, func() {}
	}
	if b.subs == nil {
		b.subs = map[*subscriber]struct{}{}
	}
	b.subs[s] = struct{}{}
	var once sync.Once
	return s.ch, func() {
		once.Do(func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			if _, ok := b.subs[s]; ok {
				delete(b.subs, s)
				close(s.ch)
			}
		})
	}
}

func (b *bus) publish(ev Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		e := ev
		e.Lost = s.lost
		select {
		case s.ch <- e:
			s.lost = false
			continue
		default:
		}
		select {
		case <-s.ch: // the oldest goes; only this (locked) publisher sends
		default:
		}
		e.Lost = true
		select {
		case s.ch <- e:
			s.lost = false
		default:
			s.lost = true
		}
	}
}

func (b *bus) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		delete(b.subs, s)
		close(s.ch)
	}
}

// Subscribe streams the engine's events (models loaded, unloaded, evicted;
// downloads changed) until cancel is called or the engine closes, which close
// the channel. A subscriber that falls behind loses the oldest events, never
// blocks the engine, and learns it from Event.Lost.
func (e *Engine) Subscribe() (events <-chan Event, cancel func()) { return e.events.subscribe() }

// relay publishes what the pool and the download manager report until the
// pool shuts down. It is the engine's one publisher goroutine.
func (e *Engine) relay(models <-chan ModelEvent, downloads <-chan struct{}) {
	defer e.events.close()
	for {
		select {
		case ev, ok := <-models:
			if !ok {
				return // the pool shut down
			}
			e.events.publish(Event{Topic: TopicModel, Model: ev})
		case _, ok := <-downloads:
			if !ok {
				downloads = nil // the manager stopped; models go on
				continue
			}
			e.events.publish(Event{Topic: TopicDownloads})
		}
	}
}

// startRelay subscribes to the pool and the manager (when there is one) before
// anything can happen, so no event is missed.
func (e *Engine) startRelay(m *hub.Manager) {
	models, _ := e.pool.Subscribe() // ends with the pool
	var downloads <-chan struct{}
	if m != nil {
		var cancel func()
		downloads, cancel = m.Changes()
		e.stopDownloads = cancel
	}
	e.relayDone = make(chan struct{})
	go func() {
		defer close(e.relayDone)
		e.relay(models, downloads)
	}()
}
