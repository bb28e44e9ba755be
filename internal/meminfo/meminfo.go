package meminfo

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Read is Field of the running system's /proc/meminfo.
func Read(name string) (int64, error) {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	return Field(data, name)
}

// Field reads the field name from the text of /proc/meminfo
// ("MemTotal:       16318480 kB") and returns it in bytes; a field that is
// missing, malformed, not positive or too large is an error.
func Field(data []byte, name string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || key != name {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 || len(fields) > 2 {
			return 0, fmt.Errorf("parse meminfo: malformed %s %q", name, rest)
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("parse meminfo: bad %s %q", name, fields[0])
		}
		unit := int64(1)
		if len(fields) == 2 {
			if !strings.EqualFold(fields[1], "kB") {
				return 0, fmt.Errorf("parse meminfo: unknown unit %q", fields[1])
			}
			unit = 1024
		}
		if n > (1<<63-1)/unit {
			return 0, fmt.Errorf("parse meminfo: %s %d kB overflows", name, n)
		}
		return n * unit, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("parse meminfo: %w", err)
	}
	return 0, errors.New("parse meminfo: no " + name + " line")
}
