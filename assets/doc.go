// Package assets holds the files built into the binary: the web UI, built by Vite
// from assets/ui into assets/ui/dist (make build runs npm ci and the build first).
// It has no logic beyond handing out those files.
//
// Who may import me: api and app.
package assets
