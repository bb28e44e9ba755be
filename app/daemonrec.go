package app

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// daemonRecordName is the file in the data dir where a running daemon says
// where it listens and gives the CLI of the same OS user its local
// credential (api/localcred.go). Mode 0600 in the 0700 data dir.
const daemonRecordName = "daemon.json"

// localCredentialPrefix tells a local credential apart from API keys (mlxm-)
// and session tokens, in a log or a secret scanner.
const localCredentialPrefix = "mlxl-"

// daemonRecord is the content of daemon.json.
type daemonRecord struct {
	URL        string `json:"url"`
	PID        int    `json:"pid"`
	Version    string `json:"version"`
	Credential string `json:"credential"`
}

// newLocalCredential is a fresh secret for one run of the daemon.
func newLocalCredential() (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("generate local credential: %w", err)
	}
	return localCredentialPrefix + base64.RawURLEncoding.EncodeToString(raw[:]), nil
}

// writeDaemonRecord writes daemon.json through a temp file and a rename, so a
// CLI never reads half a record, with mode 0600 from the first byte.
func writeDaemonRecord(dataDir string, rec daemonRecord) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dataDir, ".daemon-*.json")
	if err != nil {
		return fmt.Errorf("write %s: %w", daemonRecordName, err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", daemonRecordName, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", daemonRecordName, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", daemonRecordName, err)
	}
	if err := os.Rename(f.Name(), filepath.Join(dataDir, daemonRecordName)); err != nil {
		return fmt.Errorf("write %s: %w", daemonRecordName, err)
	}
	return nil
}

// removeDaemonRecord deletes daemon.json at shutdown when it is still this
// run's (the data dir is locked by one daemon, but a file left by a killed one
// is overwritten at the next start, never trusted).
func removeDaemonRecord(dataDir string, rec daemonRecord) {
	cur, err := readDaemonRecord(dataDir)
	if err == nil && cur.Credential == rec.Credential {
		os.Remove(filepath.Join(dataDir, daemonRecordName))
	}
}

// errNoDaemonRecord means no daemon has recorded itself in the data dir.
var errNoDaemonRecord = errors.New("no daemon record")

// readDaemonRecord reads daemon.json; a missing file is errNoDaemonRecord.
func readDaemonRecord(dataDir string) (daemonRecord, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, daemonRecordName))
	if errors.Is(err, os.ErrNotExist) {
		return daemonRecord{}, errNoDaemonRecord
	}
	if err != nil {
		return daemonRecord{}, fmt.Errorf("read the daemon record: %w", err)
	}
	var rec daemonRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return daemonRecord{}, fmt.Errorf("read the daemon record %s: %w", filepath.Join(dataDir, daemonRecordName), err)
	}
	return rec, nil
}
