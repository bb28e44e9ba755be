package assets

import (
	"embed"
	"io/fs"
)

// The dist directory always exists (dist/.keep is committed and the Vite build puts it
// back), so `go build` works before the UI was ever built; the binary then serves a
// page that says how to build it. `all:` keeps .keep, without which an unbuilt dist
// would be an empty directory that go:embed refuses.
//
//go:embed all:ui/dist
var uiFiles embed.FS

// UI returns the built web app, rooted at its index.html.
func UI() fs.FS {
	sub, err := fs.Sub(uiFiles, "ui/dist")
	if err != nil {
		panic(err) // a constant, valid path: unreachable
	}
	return sub
}

// UIBuilt reports whether the binary carries a built UI.
func UIBuilt(ui fs.FS) bool {
	st, err := fs.Stat(ui, "index.html")
	return err == nil && !st.IsDir()
}
