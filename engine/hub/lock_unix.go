//go:build unix

package hub

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// lockPollInterval is how often a busy blob lock is retried.
const lockPollInterval = 100 * time.Millisecond

// lockBlob takes the lock huggingface_hub takes before writing a blob
// (Root/.locks/models--{org}--{name}/{etag}.lock, an exclusive flock), so this program
// and Python tools sharing the cache never write one .incomplete file at once.
func (c Cache) lockBlob(ctx context.Context, repo, etag string) (unlock func(), err error) {
	if err := checkEtag(etag); err != nil {
		return nil, err
	}
	if _, err := c.repoDir(repo); err != nil {
		return nil, err
	}
	p := filepath.Join(c.Root, ".locks", repoFolderName(repo), etag+".lock")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, fmt.Errorf("lock blob: %w", err)
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock blob: %w", err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() {
				_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
				_ = f.Close()
			}, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			_ = f.Close()
			return nil, fmt.Errorf("lock blob %s: %w", etag, err)
		}
		if err := sleep(ctx, lockPollInterval); err != nil {
			_ = f.Close()
			return nil, context.Cause(ctx)
		}
	}
}
