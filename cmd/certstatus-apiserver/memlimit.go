package main

import (
	"fmt"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// memoryLimitEnv carries the container's memory limit in bytes; the
// deployment sets it with the downward API (resourceFieldRef limits.memory).
const memoryLimitEnv = "CERTSTATUS_MEMORY_LIMIT"

// memoryLimitShare is the part of the container's limit given to the Go
// runtime as its soft limit (GOMEMLIMIT). The runtime's limit covers the heap,
// goroutine stacks and its own metadata; the rest of the container's memory
// is what it cannot see: the executable's mapped pages, the kernel's socket
// buffers of a thousand watch connections, and what the GC overshoots while
// it catches up. 10 % is 51 MiB of the default 512 MiB.
const memoryLimitShare = 0.9

// setMemoryLimit sets the Go runtime's soft memory limit to memoryLimitShare
// of the container's limit, so that the garbage collector works harder as the
// pod nears its limit instead of the kernel killing it. An explicit
// GOMEMLIMIT wins. It returns what it did, for the log.
func setMemoryLimit() (string, error) {
	if v, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		return "GOMEMLIMIT=" + v + " (set explicitly)", nil
	}
	v := strings.TrimSpace(os.Getenv(memoryLimitEnv))
	if v == "" {
		return "", nil
	}
	limit, err := strconv.ParseInt(v, 10, 64)
	if err != nil || limit <= 0 {
		return "", fmt.Errorf("%s=%q: want the memory limit in bytes", memoryLimitEnv, v)
	}
	soft := int64(math.Floor(float64(limit) * memoryLimitShare))
	debug.SetMemoryLimit(soft)
	return fmt.Sprintf("Go memory limit %d MiB (%.0f %% of the container's %d MiB)", soft>>20, memoryLimitShare*100, limit>>20), nil
}
