package stack

import (
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// StopOnSignal stops the stack and exits the process (status 1) on SIGINT or
// SIGTERM, for a TestMain that shares one stack: without it, Ctrl-C on
// `go test` kills the children (Pdeathsig) but leaves the stack's directory
// behind. Call the returned function to stop listening.
func (s *Stack) StopOnSignal() (release func()) {
	signals := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-signals:
			fmt.Fprintf(os.Stderr, "stack: %v received, stopping the control plane\n", sig)
			if err := s.Stop(); err != nil {
				fmt.Fprintf(os.Stderr, "stack: %v\n", err)
			}
			os.Exit(1)
		case <-done:
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			signal.Stop(signals)
			close(done)
		})
	}
}
