package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
)

// Finding 7 of issue #27: Hub errors showed the internal resolver's address to the
// client. The message says what failed; the addresses stay in the log.
func TestHubUnreachableHidesNetworkDetails(t *testing.T) {
	cases := map[string]struct {
		err  error
		want string
	}{
		"dns": {fmt.Errorf("fetch: %w", &net.DNSError{Err: "no such host", Name: "huggingface.co", Server: "10.1.2.53:53", IsNotFound: true}),
			"cannot resolve huggingface.co: no such host"},
		"refused": {&net.OpError{Op: "dial", Net: "tcp", Source: &net.TCPAddr{IP: net.IPv4(10, 9, 8, 7), Port: 5555},
			Addr: &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 3128}, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)},
			"dial: connection refused"},
		// What net/http returns when the client's deadline passes mid-request.
		"deadline": {&url.Error{Op: "Get", URL: "http://10.1.2.3:3128/", Err: context.DeadlineExceeded}, "timed out"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var e *Error
			if !errors.As(toError(tc.err), &e) || e.Code != "hub_unreachable" {
				t.Fatalf("%v mapped to %v", tc.err, toError(tc.err))
			}
			if !strings.HasSuffix(e.Message, tc.want) || strings.Contains(e.Message, "10.") {
				t.Fatalf("message %q, want it to end in %q and name no address", e.Message, tc.want)
			}
			if !errors.Is(e, tc.err) && e.Err != tc.err {
				t.Fatal("the full error is not kept for the log")
			}
		})
	}
}
