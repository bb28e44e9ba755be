package hub

import (
	"errors"
	"testing"
)

// TestTransitions is the download state machine as a table: every status and
// every action, what it leads to, and "-" where it is refused.
func TestTransitions(t *testing.T) {
	t.Parallel()
	const no = Status("-")
	statuses := []Status{StatusPending, StatusDownloading, StatusVerifying, StatusPaused, StatusFailed, StatusCancelled, StatusCompleted}
	actions := []Action{ActPause, ActResume, ActCancel, ActLaunch, ActVerify, ActComplete, ActFail}
	want := map[Status][]Status{
		//                 pause          resume             cancel           launch             verify           complete         fail
		StatusPending:     {StatusPaused, StatusPending, StatusCancelled, StatusDownloading, no, no, StatusFailed},
		StatusDownloading: {StatusPaused, StatusDownloading, StatusCancelled, no, StatusVerifying, no, StatusFailed},
		StatusVerifying:   {StatusPaused, StatusVerifying, StatusCancelled, no, no, StatusCompleted, StatusFailed},
		StatusPaused:      {StatusPaused, StatusDownloading, StatusCancelled, StatusDownloading, no, no, no},
		StatusFailed:      {no, StatusDownloading, StatusCancelled, StatusDownloading, no, no, no},
		StatusCancelled:   {no, no, StatusCancelled, no, no, no, no},
		StatusCompleted:   {no, no, no, no, no, no, no},
	}
	for _, from := range statuses {
		for i, a := range actions {
			t.Run(string(from)+"/"+string(a), func(t *testing.T) {
				to, err := Next(from, a)
				if want[from][i] == no {
					if !errors.Is(err, ErrTransition) || to != from {
						t.Errorf("Next = %s, %v; want refused", to, err)
					}
					return
				}
				if err != nil || to != want[from][i] {
					t.Errorf("Next = %s, %v; want %s", to, err, want[from][i])
				}
			})
		}
	}
	// A final status is left only by the user actions the table lists.
	for _, s := range statuses {
		if s.Final() && s != StatusFailed {
			for _, a := range []Action{ActLaunch, ActVerify, ActComplete, ActFail, ActPause} {
				if _, err := Next(s, a); err == nil {
					t.Errorf("%s is final but %s leaves it", s, a)
				}
			}
		}
	}
}
