package main

import (
	"io"
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// TestGCTraceReadsTheRuntimesLines runs this test binary again with
// GODEBUG=gctrace=1 so that the Go runtime itself writes the lines, holding
// about 64 MiB across a forced GC; the parser must find that heap.
func TestGCTraceReadsTheRuntimesLines(t *testing.T) {
	if os.Getenv("BENCH_GCTRACE_CHILD") != "" {
		hold := make([][]byte, 64)
		for i := range hold {
			hold[i] = make([]byte, 1<<20)
		}
		runtime.GC()
		// runtime.GC can return before its cycle's trace line is printed
		// (make test once lost it as the child exited); a second cycle
		// starts only after the first is wholly done, line included.
		runtime.GC()
		runtime.KeepAlive(hold)
		return
	}
	log, err := os.CreateTemp(t.TempDir(), "gctrace")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := log.WriteString("gc 1 @0.1s 1%: written before the offset, 900->900->900 MB, ignored\n"); err != nil {
		t.Fatal(err)
	}
	trace := newGCTrace(log.Name())
	cmd := exec.Command(os.Args[0], "-test.run=^TestGCTraceReadsTheRuntimesLines$")
	cmd.Env = append(os.Environ(), "BENCH_GCTRACE_CHILD=1", "GODEBUG=gctrace=1")
	// Only the runtime's stderr: the test framework's "PASS" on stdout could
	// land inside a gctrace line, which the runtime writes in pieces.
	cmd.Stdout, cmd.Stderr = io.Discard, log
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	log.Close()
	peak, cycles, err := trace.peak()
	if err != nil {
		t.Fatal(err)
	}
	if cycles < 1 || peak < 60<<20 || peak > 200<<20 {
		data, _ := os.ReadFile(log.Name())
		t.Fatalf("peak %d MiB over %d cycles from:\n%s", peak>>20, cycles, data)
	}
}

func TestListMemoryGrowth(t *testing.T) {
	m := listMemory{
		Before:     memorySnapshot{RSS: 100, PeerRSS: 1000},
		Sequential: memoryPhase{PeakRSS: 150, PeakPeerRSS: 1300, After: memorySnapshot{RSS: 140, PeerRSS: 1200}},
		Concurrent: memoryPhase{PeakRSS: 180, PeakPeerRSS: 1250, After: memorySnapshot{RSS: 190, PeerRSS: 1250}},
		PeerPhase:  memoryPhase{PeakRSS: 185, PeakPeerRSS: 1600, After: memorySnapshot{RSS: 185, PeerRSS: 1500}},
	}
	if ours, peer := m.growth(); ours != 90 || peer != 600 {
		t.Errorf("growth %d, %d; want 90, 600", ours, peer)
	}
}
