package route_test

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlx-manager/mlx-manager/api/route"
	"github.com/mlx-manager/mlx-manager/internal/testenv"
)

// BenchmarkServeFirstByte is the router alone: 32 concurrent streams to an
// upstream that answers at once, sent directly and through Router.Serve behind
// a plain HTTP server (no auth, no audit), interleaved. added-ms is the median
// routed minus the median direct time to the first event.
func BenchmarkServeFirstByte(b *testing.B) {
	const streams = 32
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n")
		w.(http.Flusher).Flush()
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	defer upstream.Close()
	r := route.New(route.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer r.CloseIdle()
	r.Set([]route.Backend{{Name: "up", Kind: route.KindOpenAI, BaseURL: upstream.URL + "/v1", APIKey: "k"}},
		[]route.Rule{{Pattern: "m", Targets: []route.Target{{Backend: "up"}}}})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		targets, _ := r.Targets(route.ModelOf(body), nil)
		if _, err := r.Serve(req.Context(), w, &route.Request{Protocol: route.OpenAIChat, Body: body, Header: req.Header, Targets: targets}); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
		}
	}))
	defer front.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: streams}}
	defer client.CloseIdleConnections()
	round := func(url string) []time.Duration {
		out := make([]time.Duration, streams)
		var wg sync.WaitGroup
		for i := range streams {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := time.Now()
				resp, err := client.Post(url+"/v1/chat/completions", "application/json",
					strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"Hi"}],"stream":true}`))
				if err != nil {
					b.Error(err)
					return
				}
				defer resp.Body.Close()
				sc := bufio.NewScanner(resp.Body)
				for sc.Scan() {
					if out[i] == 0 && strings.HasPrefix(sc.Text(), "data: ") {
						out[i] = time.Since(start)
					}
				}
			}()
		}
		wg.Wait()
		return out
	}
	round(upstream.URL)
	round(front.URL)
	var (
		direct, routed       []time.Duration
		directCPU, routedCPU time.Duration
	)
	// CPU time of the process while each kind of round runs: the difference is
	// what the routing hop costs per request.
	timed := func(sum *time.Duration, url string) []time.Duration {
		before, _ := testenv.CPUTime()
		out := round(url)
		after, _ := testenv.CPUTime()
		*sum += after - before
		return out
	}
	b.ResetTimer()
	for range b.N {
		direct = append(direct, timed(&directCPU, upstream.URL)...)
		routed = append(routed, timed(&routedCPU, front.URL)...)
	}
	b.StopTimer()
	med := func(d []time.Duration) float64 {
		s := slices.Clone(d)
		slices.Sort(s)
		return float64(s[len(s)/2]) / float64(time.Millisecond)
	}
	b.ReportMetric(med(direct), "direct-ms")
	b.ReportMetric(med(routed), "routed-ms")
	b.ReportMetric(med(routed)-med(direct), "added-ms")
	if _, ok := testenv.CPUTime(); ok {
		perReq := float64(routedCPU-directCPU) / float64(time.Microsecond) / float64(b.N*streams)
		b.ReportMetric(perReq, "added-cpu-us/req")
	}
}
