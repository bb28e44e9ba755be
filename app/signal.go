package app

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// signalContext is cancelled by SIGINT or SIGTERM, the start of a graceful
// shutdown. run handles SIGINT itself (Ctrl-C stops an answer of its chat, not
// the program), so for run only SIGTERM cancels.
func signalContext(args []string) (context.Context, context.CancelFunc) {
	if len(args) > 0 && args[0] == "run" {
		return signal.NotifyContext(context.Background(), syscall.SIGTERM)
	}
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// Run is main: it runs one subcommand with the process's streams and signals and
// returns the exit code.
func Run(args []string) int {
	ctx, stop := signalContext(args)
	defer stop()
	return Main(ctx, args, os.Stdout, os.Stderr)
}
