//go:build !unix

package hub

import "context"

// lockBlob is a no-op where flock does not exist; one manager still never writes a
// blob twice at once, only cooperation with other tools is lost.
func (c Cache) lockBlob(context.Context, string, string) (func(), error) {
	return func() {}, nil
}
