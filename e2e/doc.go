// Package e2e holds the end-to-end test of the web UI: `go test ./e2e` builds the
// daemon, starts it on 127.0.0.1 with a fake Hugging Face Hub (engine/hub/hubtest)
// and tiny models, and drives the real UI in a headless Chromium through
// playwright-core (browser.mjs). Screenshots of every page land in e2e/test-output.
//
// It needs Node, `npm ci` in e2e/, the built UI (make build) and /usr/bin/chromium
// (or $CHROMIUM); without them it skips, unless MLX_MANAGER_E2E=1 (make test sets it)
// turns a missing piece into a failure. MLX_MANAGER_E2E_BIN names a daemon binary
// already built (with the UI embedded) instead of building one.
package e2e
