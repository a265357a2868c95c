package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// burstSecrets is more than a watcher's event buffer (512).
const burstSecrets = 800

// TestKubectlWatchSurvivesABurstOfExpiries: when many certificates expire
// at the same instant (a CA expiring under many Secrets), `kubectl get -w`
// prints every one of them and keeps watching. A burst larger than a
// watcher's buffer used to close the watch, which ends kubectl.
func TestKubectlWatchSurvivesABurstOfExpiries(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	notAfter := time.Now().Truncate(time.Second).Add(45 * time.Second)
	c := newChain(t, "burst.example.com", time.Now().Add(-time.Hour), notAfter)

	// An hour-long certificate is ExpiringSoon from the start (a third of its
	// lifetime); one certificate in every Secret, created by a few writers.
	names := make(chan string)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for name := range names {
				createSecret(t, c.tlsSecret(ns, name, nil))
			}
		})
	}
	for i := range burstSecrets {
		names <- fmt.Sprintf("burst-%03d", i)
	}
	close(names)
	wg.Wait()
	eventually(t, 30*time.Second, func() error {
		list, err := env.certs.CertstatusV1alpha1().CertificateStatuses(ns).List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return err
		}
		if len(list.Items) != burstSecrets {
			return fmt.Errorf("%d of %d listed", len(list.Items), burstSecrets)
		}
		return nil
	})
	if left := time.Until(notAfter); left < 5*time.Second {
		t.Fatalf("setting up took too long: only %v left before the certificates expire", left)
	}

	k := startKubectlWatch(t, "get", "cst", "-n", ns, "-w", "--output-watch-events", "--no-headers")
	added, expired := 0, 0
	deadline := time.After(time.Until(notAfter) + 30*time.Second)
	for expired < burstSecrets {
		select {
		case line, ok := <-k.lines:
			if !ok {
				t.Fatalf("kubectl exited after %d ADDED and %d MODIFIED→Expired rows; stderr:\n%s", added, expired, k.stderr)
			}
			cells := kubectlCells(line)
			switch {
			case len(cells) > 2 && cells[0] == "ADDED" && cells[2] == "ExpiringSoon":
				added++
			case len(cells) > 2 && cells[0] == "MODIFIED" && cells[2] == "Expired":
				expired++
			default:
				t.Fatalf("unexpected row %q", line)
			}
		case <-deadline:
			t.Fatalf("%d of %d Expired rows within 30 s of notAfter (%d ADDED); stderr:\n%s", expired, burstSecrets, added, k.stderr)
		}
	}
	if added != burstSecrets {
		t.Errorf("%d ADDED rows, want %d", added, burstSecrets)
	}
	// Still watching: a later change is printed too.
	removeSecret(t, ns, "burst-000")
	if line := k.next(t, 10*time.Second); !strings.HasPrefix(line, "DELETED") {
		t.Errorf("after the burst kubectl printed %q, want the DELETED row", line)
	}
}
