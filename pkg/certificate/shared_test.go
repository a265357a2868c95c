package certificate

import (
	"crypto/sha256"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

func TestCADescriptionsAreShared(t *testing.T) {
	p := newPKI(t)
	other := certtest.Must(p.intermediate.NewLeaf(certtest.Spec{CommonName: "api.example.com", NotBefore: epoch.Add(-day), NotAfter: epoch.Add(90 * day)}))
	first := analyze(t, p.validTLS(t))
	second := analyze(t, tlsInput(certtest.ChainPEM(other, p.intermediate), keyPEM(t, other, certtest.PKCS8), p.root.PEM()))
	// Records are in key order: ca.crt's root, then tls.crt's leaf and intermediate.
	root, leaf, intermediate := 0, 1, 2
	for _, i := range []int{root, intermediate} {
		if first.certificates[i].desc != second.certificates[i].desc {
			t.Errorf("certificate %d: CA description not shared", i)
		}
	}
	if first.certificates[leaf].desc == second.certificates[leaf].desc {
		t.Error("leaf descriptions are shared; only CA certificates should be")
	}
	// The leaf's issuer and authority key ID use the intermediate's strings.
	own, ca := first.certificates[leaf].desc, first.certificates[intermediate].desc
	if unsafe.StringData(own.issuer) != unsafe.StringData(ca.subject) || unsafe.StringData(own.authorityKeyID) != unsafe.StringData(ca.subjectKeyID) {
		t.Error("the leaf keeps its own copy of its issuer's strings")
	}
}

func TestSharedDescriptionsAreCollected(t *testing.T) {
	root := newRootCA("Collected Root")
	fingerprint := sha256.Sum256(root.DER)
	func() {
		a := analyze(t, Input{Type: "Opaque", Data: map[string][]byte{"ca.crt": root.PEM()}})
		if sharedDescriptions.Lookup(fingerprint) == nil {
			t.Fatal("the description is not in the table while an Analysis uses it")
		}
		runtime.KeepAlive(a)
	}()
	// Cleanups run on their own goroutine after a GC.
	deadline := time.Now().Add(5 * time.Second)
	for sharedDescriptions.Lookup(fingerprint) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the table keeps alive a description nobody uses")
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}

// TestConcurrentAnalyses runs analyses of Secrets sharing their CAs, and
// StatusAt on one Analysis, from several goroutines: run it with -race.
func TestConcurrentAnalyses(t *testing.T) {
	p := newPKI(t)
	in := p.validTLS(t)
	shared := analyze(t, in)
	want := mustJSON(t, shared.StatusAt(epoch))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if got := mustJSON(t, analyze(t, in).StatusAt(epoch)); got != want {
					t.Errorf("a concurrent analysis differs:\n%s\n%s", got, want)
				}
				if got := mustJSON(t, shared.StatusAt(epoch)); got != want {
					t.Errorf("a concurrent StatusAt differs:\n%s\n%s", got, want)
				}
				runtime.GC() // lets cleanups of shared descriptions race with lookups
			}
		})
	}
	wg.Wait()
}
