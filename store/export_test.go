package store

// SetPruneBatch shrinks the prune transaction size so tests cross batch boundaries
// with few events; the returned func restores it.
func SetPruneBatch(n int) (restore func()) {
	old := pruneBatch
	pruneBatch = n
	return func() { pruneBatch = old }
}
