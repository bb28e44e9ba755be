// Command mlx-manager is a local LLM manager: a menu-bar daemon with a localhost web
// UI and an OpenAI-compatible API that downloads Hugging Face models and runs them.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/mlx-manager/mlx-manager/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
