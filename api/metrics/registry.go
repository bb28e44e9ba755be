package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ContentType is the media type of WriteText's output.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// MaxSeries is how many label sets one family keeps before folding new ones into
// the overflow series.
const MaxSeries = 500

// overflowValue is every label value of the overflow series.
const overflowValue = "_other"

var (
	validName  = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	validLabel = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// kind is a family's Prometheus TYPE.
type kind string

const (
	kindCounter   kind = "counter"
	kindGauge     kind = "gauge"
	kindHistogram kind = "histogram"
)

// Registry holds metric families and writes them in registration order.
type Registry struct {
	mu       sync.Mutex // guards families
	families []*family
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{} }

// family is one metric name: its help, type, label names and series.
type family struct {
	name    string
	help    string
	kind    kind
	labels  []string
	buckets []float64 // histograms only, ascending, without +Inf

	// collect, when set, produces the family's samples at scrape time instead of
	// the series map (gauges whose truth lives elsewhere: pool memory, downloads).
	collect func(set func(value float64, labelValues ...string))

	mu     sync.Mutex         // guards series
	series map[string]*series // by joined label values
}

// series is one label set's value. Counters and gauges use value; histograms use
// counts (one per bucket, not cumulative), sum and count.
type series struct {
	labelValues []string

	mu     sync.Mutex // guards the fields below
	value  float64
	counts []uint64
	sum    float64
	count  uint64
}

func (r *Registry) register(f *family) *family {
	if !validName.MatchString(f.name) {
		panic(fmt.Sprintf("metrics: invalid metric name %q", f.name))
	}
	for _, l := range f.labels {
		if !validLabel.MatchString(l) || strings.HasPrefix(l, "__") || l == "le" {
			panic(fmt.Sprintf("metrics: invalid label name %q on %s", l, f.name))
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, g := range r.families {
		if g.name == f.name {
			panic(fmt.Sprintf("metrics: %s registered twice", f.name))
		}
	}
	f.series = map[string]*series{}
	r.families = append(r.families, f)
	return f
}

// with returns the series of labelValues, creating it (or the overflow series once
// the family is full). A wrong number of values is a programmer error.
func (f *family) with(labelValues []string) *series {
	if len(labelValues) != len(f.labels) {
		panic(fmt.Sprintf("metrics: %s takes %d label values, got %d", f.name, len(f.labels), len(labelValues)))
	}
	key := strings.Join(labelValues, "\xff")
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.series[key]; ok {
		return s
	}
	if len(f.series) >= MaxSeries {
		over := make([]string, len(f.labels))
		for i := range over {
			over[i] = overflowValue
		}
		labelValues, key = over, strings.Join(over, "\xff")
		if s, ok := f.series[key]; ok {
			return s
		}
	}
	s := &series{labelValues: slices.Clone(labelValues)}
	if f.kind == kindHistogram {
		s.counts = make([]uint64, len(f.buckets))
	}
	f.series[key] = s
	return s
}

// snapshot returns the family's series sorted by label values.
func (f *family) snapshot() []*series {
	f.mu.Lock()
	out := make([]*series, 0, len(f.series))
	for _, s := range f.series {
		out = append(out, s)
	}
	f.mu.Unlock()
	slices.SortFunc(out, func(a, b *series) int { return slices.Compare(a.labelValues, b.labelValues) })
	return out
}

// WriteText writes every family in the Prometheus text format.
func (r *Registry) WriteText(w io.Writer) error {
	r.mu.Lock()
	families := slices.Clone(r.families)
	r.mu.Unlock()
	bw := bufio.NewWriter(w)
	for _, f := range families {
		f.write(bw)
	}
	return bw.Flush()
}

func (f *family) write(w *bufio.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", f.name, escapeHelp(f.help), f.name, f.kind)
	if f.collect != nil {
		seen := map[string]bool{}
		f.collect(func(v float64, labelValues ...string) {
			if len(labelValues) != len(f.labels) {
				panic(fmt.Sprintf("metrics: %s takes %d label values, got %d", f.name, len(f.labels), len(labelValues)))
			}
			key := strings.Join(labelValues, "\xff")
			if seen[key] { // the format forbids a label set twice
				return
			}
			seen[key] = true
			writeSample(w, f.name, f.labels, labelValues, "", "", v)
		})
		return
	}
	for _, s := range f.snapshot() {
		s.mu.Lock()
		if f.kind != kindHistogram {
			writeSample(w, f.name, f.labels, s.labelValues, "", "", s.value)
			s.mu.Unlock()
			continue
		}
		var cum uint64
		for i, b := range f.buckets {
			cum += s.counts[i]
			writeSample(w, f.name+"_bucket", f.labels, s.labelValues, "le", formatFloat(b), float64(cum))
		}
		writeSample(w, f.name+"_bucket", f.labels, s.labelValues, "le", "+Inf", float64(s.count))
		writeSample(w, f.name+"_sum", f.labels, s.labelValues, "", "", s.sum)
		writeSample(w, f.name+"_count", f.labels, s.labelValues, "", "", float64(s.count))
		s.mu.Unlock()
	}
}

// writeSample writes one line: name{labels,extra="value"} value.
func writeSample(w *bufio.Writer, name string, labels, values []string, extraName, extraValue string, v float64) {
	w.WriteString(name)
	if len(labels) > 0 || extraName != "" {
		w.WriteByte('{')
		for i, l := range labels {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString(l)
			w.WriteString(`="`)
			w.WriteString(escapeLabel(values[i]))
			w.WriteByte('"')
		}
		if extraName != "" {
			if len(labels) > 0 {
				w.WriteByte(',')
			}
			w.WriteString(extraName)
			w.WriteString(`="`)
			w.WriteString(extraValue)
			w.WriteByte('"')
		}
		w.WriteByte('}')
	}
	w.WriteByte(' ')
	w.WriteString(formatFloat(v))
	w.WriteByte('\n')
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var (
	labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
)

// escapeLabel escapes a label value; invalid UTF-8 becomes U+FFFD, as the format
// requires UTF-8.
func escapeLabel(s string) string { return labelEscaper.Replace(strings.ToValidUTF8(s, "\uFFFD")) }

func escapeHelp(s string) string { return helpEscaper.Replace(s) }
