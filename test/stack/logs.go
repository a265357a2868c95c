package stack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// Logger is what DumpLogs needs of a *testing.T.
type Logger interface {
	Logf(format string, args ...any)
}

// logTailLines is how much of each log DumpLogs shows: enough for the
// failure, short enough to keep a test report readable.
const logTailLines = 60

// DumpLogs logs the tail of every process log; call it when a test fails.
func (s *Stack) DumpLogs(t Logger) {
	for _, path := range s.LogPaths() {
		t.Logf("==> %s (last %d lines) <==\n%s", path, logTailLines, tail(path, logTailLines))
	}
}

// WriteLogTails writes the tail of every process log to w.
func (s *Stack) WriteLogTails(w io.Writer, lines int) {
	for _, path := range s.LogPaths() {
		fmt.Fprintf(w, "==> %s (last %d lines) <==\n%s\n", path, lines, tail(path, lines))
	}
}

// StopAfter ends a command's run (make run, bench, soak) that started the
// stack: when runErr is a failure rather than ctx ending, the tail of every
// log goes to stderr first, to show why. It returns runErr joined with
// Stop's error.
func (s *Stack) StopAfter(ctx context.Context, runErr error) error {
	if runErr != nil && ctx.Err() == nil {
		s.WriteLogTails(os.Stderr, 30)
	}
	return errors.Join(runErr, s.Stop())
}

// tail returns the last n lines of a file, or why it could not be read.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read log: %v)", err)
	}
	data = bytes.TrimRight(data, "\n")
	for i := len(data) - 1; i >= 0; i-- {
		if data[i] == '\n' {
			n--
			if n == 0 {
				return string(data[i+1:])
			}
		}
	}
	return string(data)
}
