package app

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mlx-manager/mlx-manager/api/ollama"
)

// chatHelp is what /? prints.
const chatHelp = `Available Commands:
  /clear          Clear session context
  /bye            Exit
  /?, /help       Help for a command

Use """ to begin a multi-line message.
Ctrl-C stops an answer; Ctrl-D or /bye exits.
`

// errPromptInterrupted is Ctrl-C while waiting for input.
var errPromptInterrupted = errors.New("interrupted at the prompt")

// chatLoop is run's interactive chat, as ollama run's: ">>> " prompts, the
// conversation kept as context for the next turn, /bye or Ctrl-D to leave,
// input between """ marks as one message, and Ctrl-C (on ints) stops the
// answer being written, not the program.
//
// Lines are read from in by a goroutine, so that Ctrl-C is seen while a read
// blocks; a blocked read of the terminal cannot be cancelled, so that
// goroutine ends with the process (or when in reaches its end).
func chatLoop(ctx context.Context, in io.Reader, out, errw io.Writer, ints <-chan os.Signal, send chatFunc, verbose bool) error {
	lines := make(chan string)
	readErr := make(chan error, 1)
	done := make(chan struct{})
	defer close(done)
	go func() {
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-done:
				return
			}
		}
		readErr <- sc.Err()
		close(lines)
	}()
	next := func(prompt string) (string, error) {
		fmt.Fprint(out, prompt)
		select {
		case l, ok := <-lines:
			if !ok {
				if err := <-readErr; err != nil {
					return "", fmt.Errorf("read input: %w", err)
				}
				return "", io.EOF
			}
			return l, nil
		case <-ints:
			return "", errPromptInterrupted
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}

	var history []ollama.Message
	for {
		text, err := readMessage(next)
		switch {
		case errors.Is(err, io.EOF):
			fmt.Fprintln(out)
			return nil
		case errors.Is(err, errPromptInterrupted):
			fmt.Fprint(out, "\nUse Ctrl + d or /bye to exit.\n")
			continue
		case err != nil:
			return err
		}
		cmd := strings.TrimSpace(text)
		switch {
		case cmd == "":
			continue
		case cmd == "/bye" || cmd == "/exit":
			return nil
		case cmd == "/clear":
			history = nil
			fmt.Fprintln(out, "Cleared session context")
			continue
		case cmd == "/?" || cmd == "/help":
			fmt.Fprint(out, chatHelp)
			continue
		case strings.HasPrefix(cmd, "/") && !strings.Contains(cmd, "\n"):
			fmt.Fprintf(out, "Unknown command '%s'. Type /? for help\n", strings.Fields(cmd)[0])
			continue
		}
		history = append(history, ollama.Message{Role: "user", Content: text})
		answer, stats, err := answerTurn(ctx, ints, send, history, out)
		switch {
		case errors.Is(err, errAnswerStopped):
			// The turn is dropped: the next question follows the last whole answer.
			history = history[:len(history)-1]
			fmt.Fprint(out, "\n\n")
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			history = history[:len(history)-1]
			fmt.Fprintf(errw, "\nError: %v\n", err)
			continue
		}
		history = append(history, ollama.Message{Role: "assistant", Content: answer})
		fmt.Fprint(out, "\n\n")
		if verbose {
			fmt.Fprintln(errw, stats)
		}
	}
}

// readMessage reads one message: a line, or the lines between """ marks.
// Ctrl-C in a multi-line message abandons it.
func readMessage(next func(prompt string) (string, error)) (string, error) {
	line, err := next(">>> ")
	if err != nil {
		return "", err
	}
	first, ok := strings.CutPrefix(strings.TrimLeft(line, " \t"), `"""`)
	if !ok {
		return line, nil
	}
	if body, ok := strings.CutSuffix(strings.TrimRight(first, " \t"), `"""`); ok {
		return body, nil
	}
	parts := []string{}
	if first != "" {
		parts = append(parts, first)
	}
	for {
		l, err := next("... ")
		if err != nil {
			return "", err
		}
		if body, ok := strings.CutSuffix(strings.TrimRight(l, " \t"), `"""`); ok {
			if body != "" {
				parts = append(parts, body)
			}
			return strings.Join(parts, "\n"), nil
		}
		parts = append(parts, l)
	}
}

// errAnswerStopped is an answer stopped by Ctrl-C.
var errAnswerStopped = errors.New("answer stopped")

// answerTurn streams one answer to out; Ctrl-C cancels its request.
func answerTurn(ctx context.Context, ints <-chan os.Signal, send chatFunc, history []ollama.Message, out io.Writer) (string, string, error) {
	reqCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stopped := make(chan bool, 1)
	finished := make(chan struct{})
	go func() {
		select {
		case <-ints:
			cancel()
			stopped <- true
		case <-finished:
			stopped <- false
		}
	}()
	answer, stats, err := send(reqCtx, history, func(s string) error {
		_, err := io.WriteString(out, s)
		return err
	})
	close(finished)
	if <-stopped && ctx.Err() == nil {
		return answer, stats, errAnswerStopped
	}
	return answer, stats, err
}
