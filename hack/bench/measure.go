package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/procfs"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/certstatus/certstatus/hack/internal/measure"
	"github.com/certstatus/certstatus/test/stack"
)

// stats summarises repeated timings.
type stats struct {
	Runs   int           `json:"runs"`
	Median time.Duration `json:"median"`
	P90    time.Duration `json:"p90"`
	P99    time.Duration `json:"p99"`
	Min    time.Duration `json:"min"`
	Max    time.Duration `json:"max"`
}

func summarize(samples []time.Duration) stats {
	if len(samples) == 0 {
		return stats{}
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	return stats{Runs: len(s), Median: measure.Percentile(s, 50), P90: measure.Percentile(s, 90), P99: measure.Percentile(s, 99), Min: s[0], Max: s[len(s)-1]}
}

// repeat runs f once as a warm-up and then runs times, bounded by ctx.
func repeat(ctx context.Context, runs int, f func() error) (stats, error) {
	if err := f(); err != nil {
		return stats{}, fmt.Errorf("warm-up: %w", err)
	}
	var samples []time.Duration
	for range runs {
		if err := ctx.Err(); err != nil {
			return stats{}, err
		}
		begin := time.Now()
		if err := f(); err != nil {
			return stats{}, err
		}
		samples = append(samples, time.Since(begin))
	}
	return summarize(samples), nil
}

// kubectlRun is one kubectl invocation's result.
type kubectlRun struct {
	Lines  int
	Bytes  int64
	MaxRSS int64 // bytes, kubectl's peak resident memory
	// Stderr is what kubectl logged (its -v output).
	Stderr string
}

// countingWriter counts bytes and lines without keeping the output.
type countingWriter struct{ bytes, lines int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.bytes += int64(len(p))
	w.lines += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}

// kubectl runs the stack's kubectl as the admin, discarding (but counting)
// its output. The discovery cache is the stack's, so it is warm after the
// first run, as on a user's machine.
func kubectl(ctx context.Context, st *stack.Stack, args ...string) (kubectlRun, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	full := append([]string{"--kubeconfig=" + st.AdminKubeconfig(), "--cache-dir=" + filepath.Join(st.Dir(), "kubectl-cache")}, args...)
	cmd := exec.CommandContext(ctx, st.KubectlPath(), full...)
	out := &countingWriter{}
	var errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &errOut
	// Linux carries the forking process's RSS into the child's ru_maxrss
	// across exec, so a peak not above ours is unknown (reported as 0).
	parentRSS, _ := measure.RSS(os.Getpid())
	if err := cmd.Run(); err != nil {
		return kubectlRun{}, fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	run := kubectlRun{Lines: int(out.lines), Bytes: out.bytes, Stderr: errOut.String()}
	if usage, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && usage.Maxrss*1024 > parentRSS*11/10 {
		run.MaxRSS = usage.Maxrss * 1024
	}
	return run, nil
}

// throttledDelay is the wait client-go logs at -v=6 when its rate limiter
// holds a request back.
var throttledDelay = regexp.MustCompile(`"Waited before sending request" delay="([^"]+)" reason="client-side throttling`)

// kubectlThrottled runs kubectl once at -v=6 and sums the waits its
// client-side rate limiter logged.
func kubectlThrottled(ctx context.Context, st *stack.Stack, args ...string) (time.Duration, error) {
	run, err := kubectl(ctx, st, append([]string{"-v=6"}, args...)...)
	if err != nil {
		return 0, err
	}
	return throttledWait(run.Stderr), nil
}

// throttledWait sums the rate limiter's waits in a -v=6 log.
func throttledWait(log string) time.Duration {
	var waited time.Duration
	for _, m := range throttledDelay.FindAllStringSubmatch(log, -1) {
		if d, err := time.ParseDuration(m[1]); err == nil {
			waited += d
		}
	}
	return waited
}

// rawClient is a REST client for absolute paths (metrics, pprof, raw lists).
func rawClient(cfg *rest.Config) (rest.Interface, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = -1, 0
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return client.Discovery().RESTClient(), nil
}

// cpuSnapshot is the CPU time used so far by each named process.
func cpuSnapshot(pids map[string]int) map[string]time.Duration {
	out := map[string]time.Duration{}
	for name, pid := range pids {
		if cpu, err := measure.CPU(pid); err == nil {
			out[name] = cpu
		}
	}
	return out
}

// procName is the process's command name.
func procName(pid int) string {
	proc, err := procfs.NewProc(pid)
	if err != nil {
		return ""
	}
	name, _ := proc.Comm()
	return name
}

// machine describes the host for the report.
func machine() string {
	cores := 0
	model := ""
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(line, "processor") {
				cores++
			}
			if v, ok := strings.CutPrefix(line, "model name"); ok && model == "" {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
			}
		}
	}
	mem := ""
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
				mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	return fmt.Sprintf("%d cores (%s), %s memory", cores, model, mem)
}

// loadAverage is /proc/loadavg's first three fields.
func loadAverage() string {
	data, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
