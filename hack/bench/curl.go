package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// curlRows times the raw lists as a new user would, with curl through the
// aggregator (issue #27: 1.67× with curl against 0.59× in the bench): curl
// asks for no compression unless told --compressed. Without curl on the
// PATH there are no rows.
func (b *bench) curlRows(ctx context.Context) ([]comparison, error) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		logf("curl rows skipped: %v", err)
		return nil, nil
	}
	cfg := b.st.RESTConfig()
	dir := filepath.Join(b.o.outDir, "curl")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	files := map[string][]byte{"client.crt": cfg.CertData, "client.key": cfg.KeyData, "ca.crt": cfg.CAData}
	for name, data := range files {
		if len(data) == 0 {
			return nil, fmt.Errorf("curl rows: the stack's REST config has no %s data", name)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			return nil, err
		}
	}
	get := func(path string, extra []string, bytesRead *int64) func() error {
		return func() error {
			args := append([]string{"-sS", "--fail", "-o", "/dev/null", "-w", "%{size_download}",
				"--cert", filepath.Join(dir, "client.crt"), "--key", filepath.Join(dir, "client.key"), "--cacert", filepath.Join(dir, "ca.crt")}, extra...)
			cmd := exec.CommandContext(ctx, curl, append(args, b.st.APIServerURL()+path)...)
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("curl %s: %w: %s", path, err, strings.TrimSpace(errOut.String()))
			}
			n, _ := strconv.ParseInt(strings.TrimSpace(out.String()), 10, 64)
			*bytesRead = n
			return nil
		}
	}
	var rows []comparison
	for _, r := range []struct {
		key, name string
		extra     []string
	}{
		{"curl-plain", "curl through the aggregator, JSON (no --compressed: uncompressed)", nil},
		{"curl-gzip", "curl through the aggregator, JSON, --compressed (gzip on the wire)", []string{"--compressed"}},
	} {
		c := comparison{Key: r.key, Name: r.name, OursLabel: "curl " + strings.Join(r.extra, " ") + " /apis/certstatus.dev/v1alpha1/certificatestatuses",
			PeerLabel: "curl " + strings.Join(r.extra, " ") + " /api/v1/secrets"}
		begin := time.Now()
		if err := b.pairCPU(ctx, &c, get("/apis/certstatus.dev/v1alpha1/certificatestatuses", r.extra, &c.OursBytes), get("/api/v1/secrets", r.extra, &c.PeerBytes)); err != nil {
			return nil, err
		}
		b.logComparison(c)
		logf("%s: %d / %d bytes on the wire, in %v", r.key, c.OursBytes, c.PeerBytes, time.Since(begin).Round(time.Millisecond))
		rows = append(rows, c)
	}
	return rows, nil
}
