// Package benchcpu measures a benchmark's CPU time. On a shared machine it
// is steadier than wall time: it leaves out the time other processes had
// the cores, and it counts the garbage collector's work.
package benchcpu

import (
	"syscall"
	"testing"
	"time"
)

// Used is the process's user and system CPU time so far.
func Used(b testing.TB) time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		b.Fatal(err)
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}

// Report reports the CPU time per operation since start as cpu-ns/op.
func Report(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(Used(b)-start)/float64(b.N), "cpu-ns/op")
}

// Measure starts measuring; the returned function reports (defer it).
func Measure(b *testing.B) func() {
	start := Used(b)
	return func() { Report(b, start) }
}
