package metrics

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// CounterVec is a counter family: values only go up.
type CounterVec struct{ f *family }

// Counter is one series of a CounterVec.
type Counter struct{ s *series }

// Counter registers a counter family. By convention its name ends in _total.
func (r *Registry) Counter(name, help string, labels ...string) *CounterVec {
	return &CounterVec{r.register(&family{name: name, help: help, kind: kindCounter, labels: labels})}
}

// With returns the series of the given label values, in the order the labels were
// declared.
func (v *CounterVec) With(labelValues ...string) Counter { return Counter{v.f.with(labelValues)} }

// Inc adds one.
func (c Counter) Inc() { c.Add(1) }

// Add adds d; a negative or NaN d is ignored, as a counter never decreases.
func (c Counter) Add(d float64) {
	if !(d > 0) {
		return
	}
	c.s.mu.Lock()
	c.s.value += d
	c.s.mu.Unlock()
}

// Value is the current count.
func (c Counter) Value() float64 {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.s.value
}

// GaugeVec is a gauge family: values go up and down.
type GaugeVec struct{ f *family }

// Gauge is one series of a GaugeVec.
type Gauge struct{ s *series }

// Gauge registers a gauge family.
func (r *Registry) Gauge(name, help string, labels ...string) *GaugeVec {
	return &GaugeVec{r.register(&family{name: name, help: help, kind: kindGauge, labels: labels})}
}

// With returns the series of the given label values.
func (v *GaugeVec) With(labelValues ...string) Gauge { return Gauge{v.f.with(labelValues)} }

// Set sets the gauge.
func (g Gauge) Set(x float64) {
	g.s.mu.Lock()
	g.s.value = x
	g.s.mu.Unlock()
}

// Add adds d (which may be negative).
func (g Gauge) Add(d float64) {
	g.s.mu.Lock()
	g.s.value += d
	g.s.mu.Unlock()
}

// Value is the gauge's current value.
func (g Gauge) Value() float64 {
	g.s.mu.Lock()
	defer g.s.mu.Unlock()
	return g.s.value
}

// GaugeFunc registers a gauge family whose samples collect produces at each scrape,
// by calling set once per label set. For values owned elsewhere (the pool's memory,
// the downloads) that would otherwise be copied on every change.
func (r *Registry) GaugeFunc(name, help string, labels []string, collect func(set func(value float64, labelValues ...string))) {
	r.register(&family{name: name, help: help, kind: kindGauge, labels: labels, collect: collect})
}

// HistogramVec is a histogram family.
type HistogramVec struct{ f *family }

// Histogram is one series of a HistogramVec.
type Histogram struct {
	s       *series
	buckets []float64
}

// Histogram registers a histogram family with the given bucket upper bounds
// (ascending; +Inf is implied).
func (r *Registry) Histogram(name, help string, buckets []float64, labels ...string) *HistogramVec {
	if len(buckets) == 0 || !sort.Float64sAreSorted(buckets) || slices.ContainsFunc(buckets, math.IsNaN) {
		panic(fmt.Sprintf("metrics: %s needs ascending buckets", name))
	}
	b := slices.Compact(slices.Clone(buckets))
	if math.IsInf(b[len(b)-1], 1) {
		b = b[:len(b)-1]
	}
	return &HistogramVec{r.register(&family{name: name, help: help, kind: kindHistogram, labels: labels, buckets: b})}
}

// With returns the series of the given label values.
func (v *HistogramVec) With(labelValues ...string) Histogram {
	return Histogram{s: v.f.with(labelValues), buckets: v.f.buckets}
}

// Observe records one value; NaN is ignored.
func (h Histogram) Observe(x float64) {
	if math.IsNaN(x) {
		return
	}
	i := sort.SearchFloat64s(h.buckets, x) // first bucket with bound >= x
	h.s.mu.Lock()
	if i < len(h.s.counts) {
		h.s.counts[i]++
	}
	h.s.sum += x
	h.s.count++
	h.s.mu.Unlock()
}

// Count is how many values were observed.
func (h Histogram) Count() uint64 {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	return h.s.count
}

// ExponentialBuckets returns n bounds starting at start, each factor times the last.
func ExponentialBuckets(start, factor float64, n int) []float64 {
	if start <= 0 || factor <= 1 || n < 1 {
		panic("metrics: ExponentialBuckets needs start > 0, factor > 1, n >= 1")
	}
	out := make([]float64, n)
	for i := range out {
		out[i] = start
		start *= factor
	}
	return out
}
