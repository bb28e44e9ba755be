package app

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// signalContext is cancelled by SIGINT or SIGTERM, the start of a graceful shutdown.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// Run is main: it runs one subcommand with the process's streams and signals and
// returns the exit code.
func Run(args []string) int {
	ctx, stop := signalContext()
	defer stop()
	return Main(ctx, args, os.Stdout, os.Stderr)
}
