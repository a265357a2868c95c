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

// cgroupMemoryLimitFiles are where the kernel shows the memory limit of the
// process's cgroup: version 2, then version 1 (in a container both show the
// container's own cgroup at these paths).
var cgroupMemoryLimitFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// setMemoryLimit sets the Go runtime's soft memory limit to memoryLimitShare
// of the container's limit, so that the garbage collector works harder as the
// pod nears its limit instead of the kernel killing it. The limit comes from
// memoryLimitEnv (the Deployment's downward API) or else from the cgroup, so
// that a container run without the manifests gets the same. An explicit
// GOMEMLIMIT wins. It returns what it did, for the log.
func setMemoryLimit() (string, error) {
	if v, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		return "GOMEMLIMIT=" + v + " (set explicitly)", nil
	}
	source := "the container's"
	limit := int64(0)
	if v := strings.TrimSpace(os.Getenv(memoryLimitEnv)); v != "" {
		var err error
		limit, err = strconv.ParseInt(v, 10, 64)
		if err != nil || limit <= 0 {
			return "", fmt.Errorf("%s=%q: want the memory limit in bytes", memoryLimitEnv, v)
		}
	} else if limit = cgroupMemoryLimit(cgroupMemoryLimitFiles); limit > 0 {
		source = "the cgroup's"
	} else {
		return "", nil
	}
	soft := int64(math.Floor(float64(limit) * memoryLimitShare))
	debug.SetMemoryLimit(soft)
	return fmt.Sprintf("Go memory limit %d MiB (%.0f %% of %s %d MiB)", soft>>20, memoryLimitShare*100, source, limit>>20), nil
}

// noCgroupLimit: cgroup v1 shows "no limit" as a huge number (the largest
// multiple of the page size), v2 as "max".
const noCgroupLimit = 1 << 60

// cgroupMemoryLimit is the first limit one of files shows, 0 for none.
func cgroupMemoryLimit(files []string) int64 {
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			continue
		}
		v := strings.TrimSpace(string(data))
		if v == "max" {
			return 0
		}
		limit, err := strconv.ParseInt(v, 10, 64)
		if err != nil || limit <= 0 || limit >= noCgroupLimit {
			return 0
		}
		return limit
	}
	return 0
}
