package metrics

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync"
	"testing"
)

func text(t *testing.T, r *Registry) string {
	t.Helper()
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestWriteText(t *testing.T) {
	r := NewRegistry()
	req := r.Counter("http_requests_total", "Requests by route.\nSecond line with a \\.", "route", "status")
	req.With("/v1/chat", "200").Add(3)
	req.With("/api/a", "500").Inc()
	req.With("/api/a", "500").Add(-5) // ignored: counters never go down
	g := r.Gauge("up", "Whether the daemon is up.")
	g.With().Set(1)
	h := r.Histogram("latency_seconds", "Latency.", []float64{0.1, 1, 10}, "route")
	for _, v := range []float64{0.05, 0.1, 0.5, 20, math.NaN()} {
		h.With(`a"b\c`).Observe(v)
	}
	r.GaugeFunc("pool_bytes", "Bytes.", []string{"model"}, func(set func(float64, ...string)) {
		set(2048, "org/m\n1")
		set(1, "org/m\n1") // a repeated label set is dropped
	})
	want := `# HELP http_requests_total Requests by route.\nSecond line with a \\.
# TYPE http_requests_total counter
http_requests_total{route="/api/a",status="500"} 1
http_requests_total{route="/v1/chat",status="200"} 3
# HELP up Whether the daemon is up.
# TYPE up gauge
up 1
# HELP latency_seconds Latency.
# TYPE latency_seconds histogram
latency_seconds_bucket{route="a\"b\\c",le="0.1"} 2
latency_seconds_bucket{route="a\"b\\c",le="1"} 3
latency_seconds_bucket{route="a\"b\\c",le="10"} 3
latency_seconds_bucket{route="a\"b\\c",le="+Inf"} 4
latency_seconds_sum{route="a\"b\\c"} 20.65
latency_seconds_count{route="a\"b\\c"} 4
# HELP pool_bytes Bytes.
# TYPE pool_bytes gauge
pool_bytes{model="org/m\n1"} 2048
`
	if got := text(t, r); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}

// sampleLine is a sample line of the text format, as Prometheus parses it.
var sampleLine = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*",?)*\})? (\S+)$`)

func TestLabelValuesAlwaysParse(t *testing.T) {
	r := NewRegistry()
	c := r.Counter("c_total", "c", "v")
	for _, v := range []string{"", "plain", "quote\"", "back\\slash", "new\nline", "\xff\xfeinvalid", "{}=,", "\\n"} {
		c.With(v).Inc()
	}
	for _, line := range strings.Split(strings.TrimSuffix(text(t, r), "\n"), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if !sampleLine.MatchString(line) {
			t.Errorf("line does not parse: %q", line)
		}
	}
}

func TestSeriesCap(t *testing.T) {
	r := NewRegistry()
	c := r.Counter("c_total", "c", "model", "status")
	for i := 0; i < MaxSeries+50; i++ {
		c.With(fmt.Sprint("m", i), "200").Inc()
	}
	if got := c.With("_other", "_other").Value(); got != 50 {
		t.Fatalf("overflow series = %v, want 50", got)
	}
	if n := strings.Count(text(t, r), "\nc_total{"); n != MaxSeries+1 {
		t.Fatalf("%d series written, want %d", n, MaxSeries+1)
	}
}

func TestConcurrentUse(t *testing.T) {
	r := NewRegistry()
	c := r.Counter("c_total", "c", "k")
	g := r.Gauge("g", "g")
	h := r.Histogram("h", "h", ExponentialBuckets(1, 2, 8), "k")
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000; i++ {
				k := fmt.Sprint(i % 4)
				c.With(k).Inc()
				g.With().Add(1)
				h.With(k).Observe(float64(i))
				if i%100 == 0 {
					text(t, r)
				}
			}
		}()
	}
	wg.Wait()
	var total float64
	var count uint64
	for k := 0; k < 4; k++ {
		total += c.With(fmt.Sprint(k)).Value()
		count += h.With(fmt.Sprint(k)).Count()
	}
	if total != 8000 || count != 8000 || g.With().Value() != 8000 {
		t.Fatalf("counter %v, histogram %d, gauge %v; want 8000 each", total, count, g.With().Value())
	}
}

func TestProgrammerErrorsPanic(t *testing.T) {
	cases := map[string]func(r *Registry){
		"bad name":          func(r *Registry) { r.Counter("1bad", "x") },
		"bad label":         func(r *Registry) { r.Counter("ok_total", "x", "a-b") },
		"reserved label":    func(r *Registry) { r.Histogram("h", "x", []float64{1}, "le") },
		"duplicate":         func(r *Registry) { r.Gauge("g", "x"); r.Gauge("g", "x") },
		"unsorted buckets":  func(r *Registry) { r.Histogram("h", "x", []float64{2, 1}) },
		"wrong label count": func(r *Registry) { r.Counter("c_total", "x", "a").With("1", "2") },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f(NewRegistry())
		})
	}
}

func TestExponentialBuckets(t *testing.T) {
	got := ExponentialBuckets(0.01, 10, 4)
	want := []float64{0.01, 0.1, 1, 10}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func BenchmarkCounterInc(b *testing.B) {
	c := NewRegistry().Counter("c_total", "c", "route", "status")
	for b.Loop() {
		c.With("/v1/chat/completions", "200").Inc()
	}
}
