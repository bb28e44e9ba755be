package api

import (
	"github.com/mlx-manager/mlx-manager/api/metrics"
	"github.com/mlx-manager/mlx-manager/engine"
)

// collectServing reads each loaded model's scheduler and prefix cache at
// scrape time: how many requests run together, wait, and reuse a prompt prefix.
func (s *Server) collectServing(r *metrics.Registry) {
	eng := s.opts.Engine
	if eng == nil {
		return
	}
	p := metricPrefix
	gauge := func(name, help string, value func(engine.ServingStats) float64) {
		r.GaugeFunc(p+name, help, []string{"model"}, func(set func(float64, ...string)) {
			for _, st := range eng.Serving() {
				set(value(st), st.Model)
			}
		})
	}
	gauge("sched_slots", "Requests each loaded model decodes together at most (the parallel setting).",
		func(st engine.ServingStats) float64 { return float64(st.Slots) })
	gauge("sched_running_sequences", "Requests holding a slot of each loaded model.",
		func(st engine.ServingStats) float64 { return float64(st.Running) })
	gauge("sched_waiting_sequences", "Requests waiting for a slot of each loaded model.",
		func(st engine.ServingStats) float64 { return float64(st.Waiting) })
	gauge("sched_suspended_sequences", "Requests of each loaded model paused (KV kept) while other users take their share of the slots.",
		func(st engine.ServingStats) float64 { return float64(st.Suspended) })
	gauge("sched_suspensions", "Times a request was paused to give its slot to another user since each model loaded.",
		func(st engine.ServingStats) float64 { return float64(st.Suspensions) })
	gauge("sched_running_users", "Users with a request running or paused on each loaded model.",
		func(st engine.ServingStats) float64 { return float64(st.Callers) })
	gauge("sched_waiting_users", "Users with a request waiting for a slot of each loaded model.",
		func(st engine.ServingStats) float64 { return float64(st.WaitingCallers) })
	gauge("sched_batch_size", "Sequences in each model's last forward step.",
		func(st engine.ServingStats) float64 { return float64(st.LastBatch) })
	gauge("sched_mean_batch_size", "Sequences per forward step since each model loaded.",
		func(st engine.ServingStats) float64 { return st.MeanBatch })
	gauge("sched_steps", "Forward steps since each model loaded.",
		func(st engine.ServingStats) float64 { return float64(st.Steps) })
	gauge("prefix_cache_lookups", "Requests that looked for a cached prompt prefix since each model loaded.",
		func(st engine.ServingStats) float64 { return float64(st.Prefix.Lookups) })
	gauge("prefix_cache_hits", "Requests that reused a cached prompt prefix since each model loaded.",
		func(st engine.ServingStats) float64 { return float64(st.Prefix.Hits) })
	gauge("prefix_cache_hit_ratio", "Hits per lookup of each model's prefix cache (0 before any lookup).",
		func(st engine.ServingStats) float64 { return hitRatio(st.Prefix) })
	gauge("prefix_cache_tokens", "Prompt tokens reused instead of computed since each model loaded.",
		func(st engine.ServingStats) float64 { return float64(st.Prefix.CachedTokens) })
	gauge("prefix_cache_sequences", "Finished sequences each model keeps for prefix reuse.",
		func(st engine.ServingStats) float64 { return float64(st.Prefix.Kept) })
	gauge("prefix_cache_kv_bytes", "KV memory of the kept sequences (0 when the executor does not report it).",
		func(st engine.ServingStats) float64 { return float64(st.Prefix.KVBytes) })
}

func hitRatio(p engine.PrefixStats) float64 {
	if p.Lookups == 0 {
		return 0
	}
	return float64(p.Hits) / float64(p.Lookups)
}
