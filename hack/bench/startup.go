package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"

	"github.com/certstatus/certstatus/generated/clientset/versioned"
	"github.com/certstatus/certstatus/hack/internal/measure"
	"github.com/certstatus/certstatus/test/stack"
)

func (b *bench) directTypedClient() (versioned.Interface, error) {
	return versioned.NewForConfig(b.directConfig())
}

// directTypedClientJSON is directTypedClient asking for JSON only.
func (b *bench) directTypedClientJSON() (versioned.Interface, error) {
	return versioned.NewForConfig(jsonConfig(b.directConfig()))
}

func (b *bench) directConfig() *rest.Config {
	cfg := b.srv.DirectRESTConfig(b.st.RESTConfig())
	cfg.QPS, cfg.Burst = -1, 0
	cfg.Timeout = 2 * time.Minute
	return cfg
}

// startupPoll is how often readiness is probed while timing start-up.
const startupPoll = 10 * time.Millisecond

// startupProbes are what a restart is timed with: HTTP clients straight to
// the server and through kube-apiserver, and the URLs they poll.
type startupProbes struct {
	direct, viaKube                  *http.Client
	readyURL, listURL, apiServiceURL string
}

func (b *bench) newStartupProbes() (*startupProbes, error) {
	direct, err := httpClient(b.srv.DirectRESTConfig(b.st.RESTConfig()))
	if err != nil {
		return nil, err
	}
	viaKube, err := httpClient(b.st.RESTConfig())
	if err != nil {
		return nil, err
	}
	return &startupProbes{
		direct:        direct,
		viaKube:       viaKube,
		readyURL:      b.srv.URL() + "/readyz",
		listURL:       b.st.APIServerURL() + "/apis/" + stack.Group + "/" + stack.Version + "/certificatestatuses?limit=1",
		apiServiceURL: b.st.APIServerURL() + "/apis/apiregistration.k8s.io/v1/apiservices/" + stack.APIServiceName,
	}, nil
}

// startup is figure 3: the server is stopped and started again on the same
// port with N Secrets present; from just before the process starts, time
// until its own /readyz answers 200, and until the APIService is Available
// and a list through kube-apiserver answers 200.
func (b *bench) startup(ctx context.Context) error {
	if err := b.startupFigure(ctx, &b.res.Startup, b.o.startups, profileFor("cpu-startup.pprof", b.o.secrets)); err != nil {
		return err
	}
	var err error
	if b.res.Memory.Restarted, err = b.serverMemory(ctx); err != nil {
		return err
	}
	logf("certstatus started with N Secrets: heap in use %s, RSS %s", measure.MiB(b.res.Memory.Restarted.HeapInuse), measure.MiB(b.res.Memory.Restarted.RSS))
	return nil
}

// startupFigure times restarts restarts into s: wall time to /readyz and to
// Available, and the CPU the server process had used when it was Available
// (user+sys from /proc/<pid>/stat), which a loaded machine does not change
// as much as the wall time. With a profile, the last restart is profiled for
// that long, certstatus from its port opening into profile.name and
// kube-apiserver from the start into profile.name's "-kube-apiserver"
// sibling, and the server's log is kept.
func (b *bench) startupFigure(ctx context.Context, s *startupFigure, restarts int, profile startupProfile) error {
	p, err := b.newStartupProbes()
	if err != nil {
		return err
	}
	direct, viaKube, readyURL, listURL, apiServiceURL := p.direct, p.viaKube, p.readyURL, p.listURL, p.apiServiceURL

	var ready, available, cpu, peerCPU []time.Duration
	for i := range restarts {
		if err := b.srv.Stop(); err != nil {
			return err
		}
		// Give the aggregator a moment to notice, as after a real crash.
		time.Sleep(2 * time.Second)
		if ok, _ := apiServiceAvailable(ctx, viaKube, apiServiceURL); !ok {
			s.SeenUnavailable++
		}
		runCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		begin := time.Now()
		started := make(chan error, 1)
		go func() { started <- b.srv.Start(runCtx) }()
		// Two probes of their own: a list through the aggregator waits for
		// the Secret cache, and must not delay the /readyz probe.
		probe := func(ok func() bool) <-chan time.Duration {
			at := make(chan time.Duration, 1)
			go func() {
				defer close(at)
				for runCtx.Err() == nil {
					if ok() {
						at <- time.Since(begin)
						return
					}
					select {
					case <-runCtx.Done():
					case <-time.After(startupPoll):
					}
				}
			}()
			return at
		}
		peerPID, err := b.kubeAPIServerPID()
		if err != nil {
			cancel()
			<-started
			return err
		}
		peerBefore, _ := measure.CPU(peerPID)
		var cpuAtAvailable time.Duration
		if profile.name != "" && i == restarts-1 {
			// The last start-up is profiled: as soon as the port answers,
			// /debug/pprof serves (readiness is not required).
			var profiled sync.WaitGroup
			profiled.Go(func() { _ = b.profileStartup(ctx, direct, profile.name, profile.seconds) })
			profiled.Go(func() {
				err := b.saveProfileFrom(ctx, b.user.CoreV1().RESTClient(), "/debug/pprof/profile", profile.peerName(), "seconds", strconv.Itoa(profile.seconds))
				if err != nil {
					logf("kube-apiserver's CPU profile of the start-up: %v", err)
				}
			})
			defer profiled.Wait()
		}
		readyC := probe(func() bool { return get(runCtx, direct, readyURL) == nil })
		availableC := probe(func() bool {
			if get(runCtx, viaKube, listURL) != nil {
				return false
			}
			ok, _ := apiServiceAvailable(runCtx, viaKube, apiServiceURL)
			if ok {
				cpuAtAvailable, _ = measure.CPU(b.srv.PID())
			}
			return ok
		})
		readyAt, availableAt := <-readyC, <-availableC
		if readyAt == 0 || availableAt == 0 {
			cancel()
			<-started
			return fmt.Errorf("start-up %d: not ready in time: %w", i, runCtx.Err())
		}
		err = <-started
		cancel()
		if err != nil {
			return err
		}
		peerAfter, _ := measure.CPU(peerPID)
		logf("start-up %d with %d Secrets: /readyz after %v, Available and serving through the aggregator after %v; certstatus CPU %v, kube-apiserver CPU meanwhile %v; load %s",
			i, b.o.secrets, readyAt.Round(time.Millisecond), availableAt.Round(time.Millisecond), cpuAtAvailable.Round(time.Millisecond),
			(peerAfter - peerBefore).Round(time.Millisecond), loadAverage())
		ready, available = append(ready, readyAt), append(available, availableAt)
		cpu, peerCPU = append(cpu, cpuAtAvailable), append(peerCPU, peerAfter-peerBefore)
	}
	s.Ready, s.Available, s.CPU, s.PeerCPU, s.Load = summarize(ready), summarize(available), summarize(cpu), summarize(peerCPU), loadAverage()
	if profile.name != "" {
		// The server's own log dates each restart's stages (Secret cache synced).
		if err := copyFile(b.srv.LogPath(), filepath.Join(b.o.outDir, "certstatus-startup.log")); err != nil {
			logf("server log: %v", err)
		}
	}
	return nil
}

// startupProfile names the CPU profiles of a start-up figure's last restart
// (none without a name) and how long they run.
type startupProfile struct {
	name    string
	seconds int
}

// profileFor is the profile of a start-up with n Secrets: long enough for
// the first list's analysis (≈ 0.3 ms of CPU a Secret on two cores).
func profileFor(name string, n int) startupProfile {
	return startupProfile{name: name, seconds: max(8, n/2500)}
}

// peerName is the file of kube-apiserver's profile.
func (p startupProfile) peerName() string {
	return strings.TrimSuffix(p.name, ".pprof") + "-kube-apiserver.pprof"
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o644)
}

// httpClient is a plain HTTP client with cfg's TLS and credentials and no
// retries, so a probe reports exactly what one request saw.
func httpClient(cfg *rest.Config) (*http.Client, error) {
	rt, err := rest.TransportFor(cfg)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: rt, Timeout: 2 * time.Second}, nil
}

// get succeeds on a 200 answer.
func get(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

func apiServiceAvailable(ctx context.Context, client *http.Client, url string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	var apiService struct {
		Status struct {
			Conditions []struct{ Type, Status string } `json:"conditions"`
		} `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&apiService); err != nil {
		return false, err
	}
	for _, c := range apiService.Status.Conditions {
		if c.Type == "Available" {
			return c.Status == "True", nil
		}
	}
	return false, nil
}

// profileStartup takes a CPU profile of the server from the moment its port
// answers until it has had time to list and analyse every Secret, into
// outDir/name; it logs and returns a failure.
func (b *bench) profileStartup(ctx context.Context, client *http.Client, name string, seconds int) error {
	healthURL := b.srv.URL() + "/livez"
	for ctx.Err() == nil {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, healthURL, nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			break
		}
		time.Sleep(startupPoll)
	}
	// Authentication is delegated and loads a moment after the port opens:
	// retry briefly.
	var err error
	for range 40 {
		if err = b.saveProfile(ctx, "/debug/pprof/profile", name, "seconds", strconv.Itoa(seconds)); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	logf("CPU profile of the start-up: %v", err)
	return err
}
