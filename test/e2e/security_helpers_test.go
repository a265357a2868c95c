package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/certstatus/certstatus/test/stack"
)

// ownStack starts a control plane of the test's own, for tests that kill,
// restart or reconfigure processes, so the shared stack stays healthy. It is
// stopped when the test ends; its logs are dumped if the test failed.
func ownStack(t *testing.T) *stack.Stack {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st, err := stack.Start(ctx, stack.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatalf("start an own control plane: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			st.DumpLogs(t)
		}
		if err := st.Stop(); err != nil {
			t.Errorf("stop the own control plane: %v", err)
		}
	})
	return st
}

// directKubeconfig rewrites kubeconfig (a user's or the admin's) so that it
// talks to srv directly, bypassing the aggregator, with the same client
// certificate, and returns the new file's path.
func directKubeconfig(t *testing.T, srv *stack.Server, kubeconfig string) string {
	t.Helper()
	config, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatalf("load %s: %v", kubeconfig, err)
	}
	for _, cluster := range config.Clusters {
		cluster.Server = srv.URL()
		cluster.CertificateAuthority = ""
		cluster.CertificateAuthorityData = srv.CAPEM()
		cluster.TLSServerName = ""
	}
	path := filepath.Join(t.TempDir(), "direct-"+filepath.Base(kubeconfig))
	if err := clientcmd.WriteToFile(*config, path); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return path
}

// rawGet does a GET with cfg and returns the status code and body; it fails
// the test if no HTTP answer comes.
func rawGet(t *testing.T, cfg *rest.Config, path string) (int, []byte) {
	t.Helper()
	code, body, err := tryGet(cfg, path, "")
	if err != nil {
		t.Fatalf("GET %s%s: %v", cfg.Host, path, err)
	}
	return code, body
}

// tryGet does a GET with cfg and an optional Accept header.
func tryGet(cfg *rest.Config, path, accept string) (int, []byte, error) {
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return 0, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(cfg.Host, "/")+path, nil)
	if err != nil {
		return 0, nil, err
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// rssKiB is the resident set size of a process, from /proc/<pid>/status.
func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read the status of pid %d: %v", pid, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			if err != nil {
				t.Fatalf("parse %q: %v", line, err)
			}
			return kib
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}

// errorLines returns the lines of a klog log at error level (E0102 ...).
func errorLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer func() { _ = f.Close() }()
	var lines []string
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 1<<20), 64<<20)
	for scanner.Scan() {
		if line := scanner.Text(); len(line) > 5 && line[0] == 'E' && line[1] >= '0' && line[1] <= '9' {
			lines = append(lines, line)
		}
	}
	if err := scanner.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return lines
}

// markerForms are the ways a secret string can show up in a response or a
// log: as is, base64-encoded at each of the three alignments (JSON carries
// Secret data in base64), and hex-encoded in both cases.
func markerForms(marker string) []string {
	forms := []string{marker, hex.EncodeToString([]byte(marker)), strings.ToUpper(hex.EncodeToString([]byte(marker)))}
	for shift := 0; shift < 3; shift++ {
		encoded := base64.StdEncoding.EncodeToString(append(bytes.Repeat([]byte{0}, shift), marker...))
		// Drop the characters that depend on the neighbouring bytes.
		start := (shift*8 + 5) / 6
		encoded = strings.TrimRight(encoded, "=")
		if len(encoded) > start+2 {
			forms = append(forms, encoded[start:len(encoded)-2])
		}
	}
	return forms
}

// hexDumpLine matches a line of encoding/hex.Dump output (client-go logs
// binary bodies that way at -v=8 and above).
var hexDumpLine = regexp.MustCompile(`(?m)^\s*[0-9a-f]{8}  ((?:[0-9a-f]{2} {1,2}){1,16})`)

// undoHexDumps returns the bytes of every hex dump in data, concatenated,
// so a marker split over dump lines is found again.
func undoHexDumps(data []byte) []byte {
	var out []byte
	for _, match := range hexDumpLine.FindAllSubmatch(data, -1) {
		decoded, err := hex.DecodeString(strings.ReplaceAll(string(match[1]), " ", ""))
		if err == nil {
			out = append(out, decoded...)
		}
	}
	return out
}

// leakScanner collects what a test saw and finds markers in it.
type leakScanner struct {
	markers   map[string][]string // marker → forms
	responses int
	bytes     int
	found     []string
}

func newLeakScanner(markers ...string) *leakScanner {
	s := &leakScanner{markers: map[string][]string{}}
	for _, m := range markers {
		s.markers[m] = markerForms(m)
	}
	return s
}

// scan looks for every marker in one collected output.
func (s *leakScanner) scan(what string, data []byte) {
	s.responses++
	s.bytes += len(data)
	for _, haystack := range [][]byte{data, undoHexDumps(data)} {
		for marker, forms := range s.markers {
			for _, form := range forms {
				if i := bytes.Index(haystack, []byte(form)); i >= 0 {
					from, to := max(0, i-80), min(len(haystack), i+len(form)+80)
					s.found = append(s.found, fmt.Sprintf("%s holds marker %q as %q: ...%q...", what, marker, form, haystack[from:to]))
				}
			}
		}
	}
}

// restConfigOf loads a kubeconfig as a client configuration.
func restConfigOf(t *testing.T, kubeconfig string) *rest.Config {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatalf("load %s: %v", kubeconfig, err)
	}
	return cfg
}
