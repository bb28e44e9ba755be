package store

// ModelParallel is the one rule for profiles' parallel: a model decodes together
// as many requests as the largest parallel among the profiles that name it (a
// profile asking for more slots gets them; one asking for fewer cannot take them
// from another). Models that no profile sets are absent: the pool setting
// (PoolSettings.Parallel, else the daemon's --parallel) applies to them.
func ModelParallel(profiles []Profile) map[string]int {
	m := map[string]int{}
	for _, p := range profiles {
		if p.Parallel > 0 {
			m[p.Model] = max(m[p.Model], p.Parallel)
		}
	}
	return m
}
