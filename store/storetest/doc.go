// Package storetest opens throwaway stores for tests: a temp data dir, a database
// that is consistency-checked and closed when the test ends (like bbolt's btesting),
// and a settable clock.
//
// Who may import me: tests of any package. I import store.
package storetest
