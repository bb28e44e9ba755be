package pool

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// parseMemInfo reads MemTotal from the text of Linux's /proc/meminfo
// ("MemTotal:       16318480 kB") and returns it in bytes.
func parseMemInfo(data []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != "MemTotal" {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 || len(fields) > 2 {
			return 0, fmt.Errorf("parse meminfo: malformed MemTotal %q", rest)
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("parse meminfo: bad MemTotal %q", fields[0])
		}
		unit := int64(1)
		if len(fields) == 2 {
			if !strings.EqualFold(fields[1], "kB") {
				return 0, fmt.Errorf("parse meminfo: unknown unit %q", fields[1])
			}
			unit = 1024
		}
		if n > (1<<63-1)/unit {
			return 0, fmt.Errorf("parse meminfo: MemTotal %d kB overflows", n)
		}
		return n * unit, nil
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("parse meminfo: %w", err)
	}
	return 0, errors.New("parse meminfo: no MemTotal line")
}
