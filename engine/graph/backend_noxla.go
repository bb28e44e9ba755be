//go:build !(cgo && ((linux && amd64) || darwin) && !noxla)

package graph

import "errors"

const xlaCompiled = false

func bestXLAPlugin() string { return "" }

func errNoXLA() error {
	return errors.New("this build has no XLA support (it needs cgo on linux/amd64 or darwin, without the noxla tag)")
}
