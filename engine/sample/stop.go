package sample

import "strings"

// StopMatcher finds stop strings in streamed text. Feed it the decoded text
// deltas in order; it returns only text that can no longer turn out to be part
// of a stop string, holding back any tail that is a prefix of one. The result is
// the same however the text is split into deltas: generation stops at the first
// place where a stop string is complete (the earliest end; among stop strings
// ending there, the longest), and the text before that stop string is emitted.
type StopMatcher struct {
	stops   []string
	held    []byte
	stopped bool
	matched string // the stop string that ended the text
}

// NewStopMatcher returns a matcher for the given stop strings; empty strings are ignored.
func NewStopMatcher(stops []string) *StopMatcher {
	m := &StopMatcher{}
	for _, s := range stops {
		if s != "" {
			m.stops = append(m.stops, s)
		}
	}
	return m
}

// Feed adds a text delta. It returns the text that is safe to emit now; when
// stopped is true, a stop string was completed, emit is everything before it that
// was not emitted yet, and the matcher ignores further input.
func (m *StopMatcher) Feed(delta string) (emit string, stopped bool) {
	if m.stopped {
		return "", true
	}
	if len(m.stops) == 0 {
		return delta, false
	}
	m.held = append(m.held, delta...)
	buf := string(m.held)
	if start, ok := m.firstStop(buf); ok {
		m.stopped = true
		m.matched = m.stopAt(buf, start)
		m.held = m.held[:0]
		return buf[:start], true
	}
	keep := m.partialTail(buf)
	emit = buf[:len(buf)-keep]
	m.held = append(m.held[:0], buf[len(buf)-keep:]...)
	return emit, false
}

// Flush returns the held-back text at the end of generation (nothing after a stop).
func (m *StopMatcher) Flush() string {
	if m.stopped {
		return ""
	}
	s := string(m.held)
	m.held = m.held[:0]
	return s
}

// Stopped reports whether a stop string has been seen.
func (m *StopMatcher) Stopped() bool { return m.stopped }

// Matched is the stop string that ended the text, "" before one did.
func (m *StopMatcher) Matched() string { return m.matched }

// stopAt is the stop string that firstStop chose at start: of those found
// there, the one that ends first.
func (m *StopMatcher) stopAt(buf string, start int) string {
	best := ""
	for _, s := range m.stops {
		if strings.HasPrefix(buf[start:], s) && (best == "" || len(s) < len(best)) {
			best = s
		}
	}
	return best
}

// firstStop returns the start of the stop string that ends first in buf.
// Everything that could begin a stop string is in buf, because the tail that is
// a prefix of a stop string is always held back.
func (m *StopMatcher) firstStop(buf string) (start int, ok bool) {
	bestEnd := -1
	for _, s := range m.stops {
		i := strings.Index(buf, s)
		if i < 0 {
			continue
		}
		end := i + len(s)
		if bestEnd < 0 || end < bestEnd || (end == bestEnd && i < start) {
			bestEnd, start = end, i
		}
	}
	return start, bestEnd >= 0
}

// partialTail is the length of the longest suffix of buf that is a proper
// prefix of some stop string.
func (m *StopMatcher) partialTail(buf string) int {
	best := 0
	for _, s := range m.stops {
		for n := min(len(s)-1, len(buf)); n > best; n-- {
			if strings.HasSuffix(buf, s[:n]) {
				best = n
				break
			}
		}
	}
	return best
}
