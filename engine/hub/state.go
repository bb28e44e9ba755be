package hub

import (
	"errors"
	"fmt"
)

// Action is what is asked of a download task, by a user or by its own run.
type Action string

// The actions. Pause, Resume and Cancel are a user's; the others are the run's.
const (
	ActPause    Action = "pause"    // stop, keeping the partial files
	ActResume   Action = "resume"   // go on from where the files stopped
	ActCancel   Action = "cancel"   // stop and delete the partial files
	ActLaunch   Action = "launch"   // a run starts
	ActVerify   Action = "verify"   // every file is in; the snapshot is being committed
	ActComplete Action = "complete" // the snapshot is committed
	ActFail     Action = "fail"     // the run failed; Resume may retry
)

// ErrTransition is wrapped by the error for an action a task's status does not
// allow, e.g. pausing a completed download.
var ErrTransition = errors.New("not allowed in this state")

// transitions is the download state machine: from a status, what each action
// leads to. An action missing from a status's row is refused.
var transitions = map[Status]map[Action]Status{
	StatusPending: {
		ActLaunch: StatusDownloading,
		ActPause:  StatusPaused,  // a journaled task restored at start, or a shutdown
		ActResume: StatusPending, // it is about to run: nothing to do
		ActCancel: StatusCancelled,
		ActFail:   StatusFailed,
	},
	StatusDownloading: {
		ActPause:  StatusPaused,
		ActResume: StatusDownloading, // running already: nothing to do
		ActCancel: StatusCancelled,
		ActVerify: StatusVerifying,
		ActFail:   StatusFailed,
	},
	StatusVerifying: {
		ActPause:    StatusPaused, // a shutdown; the journal resumes it
		ActResume:   StatusVerifying,
		ActCancel:   StatusCancelled,
		ActComplete: StatusCompleted,
		ActFail:     StatusFailed,
	},
	StatusPaused: {
		ActPause:  StatusPaused,
		ActResume: StatusDownloading,
		ActLaunch: StatusDownloading,
		ActCancel: StatusCancelled,
	},
	StatusFailed: {
		ActResume: StatusDownloading,
		ActLaunch: StatusDownloading,
		ActCancel: StatusCancelled,
	},
	StatusCancelled: {
		ActCancel: StatusCancelled,
	},
	StatusCompleted: {},
}

// Next is the status action leads to from s, or an error wrapping ErrTransition
// that names both.
func Next(s Status, a Action) (Status, error) {
	if to, ok := transitions[s][a]; ok {
		return to, nil
	}
	return s, fmt.Errorf("cannot %s a download that is %s: %w", a, s, ErrTransition)
}
