package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

// TestForbiddenSecretsAnswer503: a server whose Secret reads RBAC refuses
// is not ready, and answers get, list and watch at once with 503 naming the
// missing permission (never an empty list or a 404), without Retry-After;
// the refusal is logged once.
func TestForbiddenSecretsAnswer503(t *testing.T) {
	ns := newNamespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	createSecret(t, newChain(t, "web."+ns+".example.com", time.Time{}, time.Time{}).tlsSecret(ns, "web", nil))
	// An identity that may delegate authentication and authorization, and read no Secret.
	user := "certstatus-unread-" + ns
	kubeconfig := delegatingIdentity(t, ctx, user)
	srv, err := env.stack.LaunchServerUnready(ctx, env.binary, "--namespaces="+ns, "-v=2",
		"--kubeconfig="+kubeconfig, "--authentication-kubeconfig="+kubeconfig, "--authorization-kubeconfig="+kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	direct := srv.DirectRESTConfig(env.stack.RESTConfig())
	base := cstPath + "/namespaces/" + ns + "/certificatestatuses"

	wantRefusal := func(path string) error {
		started := time.Now()
		code, header, body, err := getWithHeaders(direct, path)
		if err != nil {
			return err // not listening yet
		}
		message := string(body)
		if code != http.StatusServiceUnavailable || !strings.Contains(message, "grant get, list and watch on secrets") {
			return fmt.Errorf("GET %s: %d %s, want 503 naming the permission", path, code, body)
		}
		for _, want := range []string{"cannot list secrets", user} {
			if !strings.Contains(message, want) {
				t.Errorf("GET %s: %s lacks %q", path, body, want)
			}
		}
		if retry := header.Get("Retry-After"); retry != "" {
			t.Errorf("GET %s: Retry-After %q, want none", path, retry)
		}
		if took := time.Since(started); took > 10*time.Second {
			t.Errorf("GET %s took %s: a refused source must answer at once", path, took)
		}
		return nil
	}
	eventually(t, time.Minute, func() error { return wantRefusal(base) })
	for _, path := range []string{base + "/web", base + "?watch=true", cstPath + "/certificatestatuses"} {
		if err := wantRefusal(path); err != nil {
			t.Error(err)
		}
	}
	if code, _, err := tryGet(direct, "/readyz", ""); err != nil || code == http.StatusOK {
		t.Errorf("/readyz: %d %v, want not ready", code, err)
	}

	// The reflector retries; the log says it once.
	time.Sleep(3 * time.Second)
	log, err := os.ReadFile(srv.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(log, []byte("Not allowed to list or watch")); n != 1 {
		t.Errorf("the refusal is logged %d times, want once", n)
	}
}

// getWithHeaders does a GET with cfg and returns the status, headers and body.
func getWithHeaders(cfg *rest.Config, path string) (int, http.Header, []byte, error) {
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return 0, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(cfg.Host, "/")+path, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body, err
}
