package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/procfs"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

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
	return stats{Runs: len(s), Median: percentile(s, 50), P90: percentile(s, 90), P99: percentile(s, 99), Min: s[0], Max: s[len(s)-1]}
}

// percentile of sorted samples, nearest rank (p90 of 7 runs is the slowest).
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
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
	parentRSS, _ := procRSS(os.Getpid())
	if err := cmd.Run(); err != nil {
		return kubectlRun{}, fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	run := kubectlRun{Lines: int(out.lines), Bytes: out.bytes}
	if usage, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && usage.Maxrss*1024 > parentRSS*11/10 {
		run.MaxRSS = usage.Maxrss * 1024
	}
	return run, nil
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

// scrape reads a Prometheus text endpoint and returns the sum of the samples
// of each wanted metric whose labels contain every given label pair.
func scrape(ctx context.Context, client rest.Interface, path string) (map[string][]sample, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	body, err := client.Get().AbsPath(path).DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	out := map[string][]sample{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, labels := line, ""
		if i := strings.IndexByte(line, '{'); i >= 0 {
			j := strings.LastIndexByte(line, '}')
			if j < i {
				continue
			}
			name, labels = line[:i], line[i+1:j]
			line = name + line[j+1:]
		}
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		name = fields[0]
		value, err := strconv.ParseFloat(fields[1], 64)
		if err != nil {
			continue
		}
		out[name] = append(out[name], sample{labels: labels, value: value})
	}
	return out, sc.Err()
}

type sample struct {
	labels string
	value  float64
}

// sum adds the samples whose labels contain every pair, e.g. `verb="WATCH"`.
func sum(samples []sample, pairs ...string) float64 {
	var total float64
outer:
	for _, s := range samples {
		for _, p := range pairs {
			if !strings.Contains(s.labels, p) {
				continue outer
			}
		}
		total += s.value
	}
	return total
}

// procRSS is a process's resident set size, in bytes.
func procRSS(pid int) (int64, error) {
	stat, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	return int64(stat.ResidentMemory()), nil
}

// procCPU is the CPU time (user + system) a process has used so far.
func procCPU(pid int) (time.Duration, error) {
	stat, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	return time.Duration(stat.CPUTime() * float64(time.Second)), nil
}

func procStat(pid int) (procfs.ProcStat, error) {
	proc, err := procfs.NewProc(pid)
	if err != nil {
		return procfs.ProcStat{}, err
	}
	return proc.Stat()
}

// cpuSnapshot is the CPU time used so far by each named process.
func cpuSnapshot(pids map[string]int) map[string]time.Duration {
	out := map[string]time.Duration{}
	for name, pid := range pids {
		if cpu, err := procCPU(pid); err == nil {
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
