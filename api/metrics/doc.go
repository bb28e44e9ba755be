// Package metrics is a small registry of counters, gauges and histograms written
// in the Prometheus text exposition format (version 0.0.4). The daemon needs a
// dozen metric families, not client_golang's collectors, protobuf and process
// probes; this keeps /metrics a few hundred lines we own.
//
// Series are created on first use of a label set. Each family caps how many it
// keeps (MaxSeries) so a label fed from request data cannot grow memory without
// bound: past the cap, new label sets share one series whose labels are all
// "_other".
//
// Who may import me: api. I import only the standard library.
package metrics
