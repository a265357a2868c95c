package main

import (
	"math"
	"runtime/debug"
	"strings"
	"testing"
)

func TestSetMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1)) // restore

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
