package main

import (
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// noCgroup points the cgroup lookup at files that do not exist, so that the
// test machine's own cgroup does not count.
func noCgroup(t *testing.T) {
	saved := cgroupMemoryLimitFiles
	cgroupMemoryLimitFiles = []string{filepath.Join(t.TempDir(), "none")}
	t.Cleanup(func() { cgroupMemoryLimitFiles = saved })
}

func TestSetMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1)) // restore
	noCgroup(t)

	t.Setenv(memoryLimitEnv, "536870912") // 512Mi, as the downward API writes it
	debug.SetMemoryLimit(math.MaxInt64)
	said, err := setMemoryLimit()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := debug.SetMemoryLimit(-1), int64(483183820); got != want {
		t.Errorf("limit %d, want %d (90 %% of 512 MiB)", got, want)
	}
	if !strings.Contains(said, "460 MiB") || !strings.Contains(said, "512 MiB") {
		t.Errorf("log line %q", said)
	}

	debug.SetMemoryLimit(math.MaxInt64)
	t.Setenv("GOMEMLIMIT", "300MiB")
	if said, err := setMemoryLimit(); err != nil || !strings.Contains(said, "explicitly") {
		t.Errorf("explicit GOMEMLIMIT: %q, %v", said, err)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("an explicit GOMEMLIMIT was overridden: %d", got)
	}
}

func TestSetMemoryLimitRefusesNonsense(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	noCgroup(t)
	for _, v := range []string{"512Mi", "-1", "0", "lots"} {
		t.Setenv(memoryLimitEnv, v)
		if _, err := setMemoryLimit(); err == nil {
			t.Errorf("%s=%s accepted", memoryLimitEnv, v)
		}
	}
	t.Setenv(memoryLimitEnv, "")
	if said, err := setMemoryLimit(); said != "" || err != nil {
		t.Errorf("unset: %q, %v", said, err)
	}
}

// Without the downward API's variable, the limit comes from the cgroup:
// version 2's memory.max or version 1's memory.limit_in_bytes, and their
// spellings of "no limit" set nothing.
func TestSetMemoryLimitFromTheCgroup(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	t.Setenv(memoryLimitEnv, "")
	dir := t.TempDir()
	v2, v1 := filepath.Join(dir, "memory.max"), filepath.Join(dir, "memory.limit_in_bytes")
	saved := cgroupMemoryLimitFiles
	cgroupMemoryLimitFiles = []string{v2, v1}
	defer func() { cgroupMemoryLimitFiles = saved }()
	write := func(file, v string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(v+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	write(v1, "1073741824") // 1Gi, version 1 only
	debug.SetMemoryLimit(math.MaxInt64)
	said, err := setMemoryLimit()
	if got, want := debug.SetMemoryLimit(-1), int64(966367641); err != nil || got != want || !strings.Contains(said, "cgroup") {
		t.Errorf("cgroup v1 1Gi: limit %d (want %d), %q, %v", got, want, said, err)
	}

	write(v2, "536870912") // version 2 comes first
	debug.SetMemoryLimit(math.MaxInt64)
	if said, err := setMemoryLimit(); debug.SetMemoryLimit(-1) != 483183820 || err != nil {
		t.Errorf("cgroup v2 512Mi: %q, %v", said, err)
	}

	t.Setenv(memoryLimitEnv, "268435456") // the downward API's variable wins
	debug.SetMemoryLimit(math.MaxInt64)
	if said, err := setMemoryLimit(); debug.SetMemoryLimit(-1) != 241591910 || err != nil || strings.Contains(said, "cgroup") {
		t.Errorf("%s over the cgroup: %q, %v", memoryLimitEnv, said, err)
	}
	t.Setenv(memoryLimitEnv, "")

	for _, unlimited := range [][2]string{{"max", "9223372036854771712"}, {"", "9223372036854771712"}} {
		os.Remove(v2)
		if unlimited[0] != "" {
			write(v2, unlimited[0])
		}
		write(v1, unlimited[1])
		debug.SetMemoryLimit(math.MaxInt64)
		if said, err := setMemoryLimit(); said != "" || err != nil || debug.SetMemoryLimit(-1) != math.MaxInt64 {
			t.Errorf("no limit (%q, %q): %q, %v", unlimited[0], unlimited[1], said, err)
		}
	}
}
