package hub

import "time"

// Status is where a download task (or one of its files) stands.
type Status string

// Task and file statuses. completed, failed and cancelled are final for a run; a failed
// task may still be resumed.
const (
	StatusPending     Status = "pending"
	StatusDownloading Status = "downloading"
	StatusPaused      Status = "paused"
	StatusVerifying   Status = "verifying"
	StatusCompleted   Status = "completed"
	StatusFailed      Status = "failed"
	StatusCancelled   Status = "cancelled"
)

// Final reports whether nothing more happens to a task in this status unless asked.
func (s Status) Final() bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusCancelled
}

// Progress is a snapshot of a task, sent to subscribers and returned by List.
type Progress struct {
	TaskID     string         `json:"taskId"`
	Repo       string         `json:"repo"`
	Revision   string         `json:"revision"`
	Commit     string         `json:"commit"`
	Status     Status         `json:"status"`
	BytesDone  int64          `json:"bytesDone"`
	BytesTotal int64          `json:"bytesTotal"`
	Speed      float64        `json:"speed"` // bytes per second, moving average
	ETA        time.Duration  `json:"eta"`   // 0 when unknown
	Files      []FileProgress `json:"files"`
	Error      string         `json:"error,omitempty"`
	CreatedAt  time.Time      `json:"createdAt"`
	UpdatedAt  time.Time      `json:"updatedAt"`
}

// FileProgress is one file of a task.
type FileProgress struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	Done   int64  `json:"done"`
	Status Status `json:"status"` // pending, downloading, verifying, completed or failed
}

// speedAlpha weighs the newest sample of the speed moving average.
const speedAlpha = 0.3

// subscribers fans progress out without ever blocking the publisher: each channel holds
// one value, and a new value replaces an unread one, so a slow reader skips
// intermediate updates but the last value sent before close is always the final one.
type subscribers struct {
	next int
	chs  map[int]chan Progress
}

func (s *subscribers) add(first Progress) (int, chan Progress) {
	if s.chs == nil {
		s.chs = map[int]chan Progress{}
	}
	ch := make(chan Progress, 1)
	ch <- first
	s.next++
	s.chs[s.next] = ch
	return s.next, ch
}

func (s *subscribers) remove(id int) {
	if ch, ok := s.chs[id]; ok {
		delete(s.chs, id)
		close(ch)
	}
}

// send must be called with the owner's lock held: being the only sender is what makes
// the replace step safe.
func (s *subscribers) send(p Progress) {
	for _, ch := range s.chs {
		select {
		case ch <- p:
			continue
		default:
		}
		select {
		case <-ch: // drop the unread, older value
		default:
		}
		select {
		case ch <- p:
		default:
		}
	}
}

func (s *subscribers) closeAll() {
	for id := range s.chs {
		s.remove(id)
	}
}
