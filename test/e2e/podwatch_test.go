package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/generated/clientset/versioned"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// TestOnePodWatch: certstatus holds one Pod watch per watched namespace,
// which feeds both a Secret's usedBy and the registrations' Trusted
// condition (issue #26, "one upstream watch per source"); with usedBy off
// (--used-by=) it still runs, for Trusted alone, and usedBy shows no Pod.
// kube-apiserver's apiserver_longrunning_requests has no user label, so
// each server is launched with --namespaces and its Pod watches are what
// the gauge gains while it runs: in any scope (a second, cluster-wide Pod
// informer counts too) and namespace-scoped (only servers launched with
// --namespaces make those). Not parallel, so no other test's servers or
// watches move the gauge meanwhile.
func TestOnePodWatch(t *testing.T) {
	ns := newNamespace(t)
	ctx := context.Background()
	ca := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "E2E One Pod Watch CA", KeyAlgorithm: certtest.ECDSA}))
	secret, _ := servingSecret(ns, "hook-tls", "hook", ca)
	createSecret(t, secret)
	service := webhookBackend(t, ns, "hook", "hook-tls") // its Pod hook-0 mounts hook-tls
	configuration := "e2e-one-pod-watch-" + ns
	name := "validatingwebhookconfiguration." + configuration
	createWebhookConfiguration(t, configuration, testWebhook("check.e2e.certstatus.dev", service, ca.PEM()))

	podWatches := func(scope string) float64 {
		t.Helper()
		return longrunningWatches(t, env.kube, `resource="pods"`+scope)
	}
	const namespaced = `,scope="namespace"`
	// settled samples a gauge a few times and keeps the highest: a watch
	// that another client (kube-controller-manager, the shared server)
	// is renewing at that instant is briefly missing.
	settled := func(scope string) float64 {
		highest := 0.0
		for range 3 {
			highest = max(highest, podWatches(scope))
			time.Sleep(200 * time.Millisecond)
		}
		return highest
	}

	for _, tc := range []struct {
		name   string
		args   []string
		usedBy bool
	}{
		{"usedBy and Trusted", []string{"--namespaces=" + ns}, true},
		{"Trusted alone", []string{"--namespaces=" + ns, "--used-by="}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, beforeNamespaced := settled(""), settled(namespaced)
			srv, err := env.stack.LaunchServer(ctx, env.binary, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			stopped := false
			stop := func() {
				if !stopped {
					stopped = true
					_ = srv.Stop()
				}
			}
			t.Cleanup(stop)
			client, err := versioned.NewForConfig(srv.DirectRESTConfig(env.stack.RESTConfig()))
			if err != nil {
				t.Fatal(err)
			}

			// Trusted is decided from the Pods that watch delivered.
			eventually(t, 60*time.Second, func() error {
				object, err := client.CertstatusV1alpha1().ClusterCertificateStatuses().Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					return err
				}
				if c := trustedOf(object); c == nil || c.Status != metav1.ConditionTrue {
					return fmt.Errorf("Trusted is %+v, want True", c)
				}
				return nil
			})
			// usedBy counts the Pod from it, or not at all when off.
			pod := "Pod/" + ns + "/hook-0"
			eventually(t, 30*time.Second, func() error {
				object, err := client.CertstatusV1alpha1().CertificateStatuses(ns).Get(ctx, "hook-tls", metav1.GetOptions{})
				if err != nil {
					return err
				}
				if got := usedByOf(object); slices.Contains(got, pod) != tc.usedBy {
					return fmt.Errorf("usedBy %q; the Pod counted: want %v", got, tc.usedBy)
				}
				return nil
			})
			if n := metricSum(t, srv, `certstatus_informer_synced{resource="pods"}`); n != map[bool]float64{true: 1, false: 0}[tc.usedBy] {
				t.Errorf("usedBy's Pod informer reported synced %v", n)
			}

			// One Pod watch, whatever reads it.
			eventually(t, 30*time.Second, func() error {
				if added, namespacedAdded := podWatches("")-before, podWatches(namespaced)-beforeNamespaced; added != 1 || namespacedAdded != 1 {
					return fmt.Errorf("the server added %v Pod watches (%v namespace-scoped), want 1 (1)", added, namespacedAdded)
				}
				return nil
			})
			for range 5 {
				if added := podWatches("") - before; added > 1 {
					t.Fatalf("the server holds %v Pod watches, want 1", added)
				}
				time.Sleep(500 * time.Millisecond)
			}
			stop()
			eventually(t, 30*time.Second, func() error {
				if n := podWatches(namespaced); n > beforeNamespaced {
					return fmt.Errorf("%v namespace-scoped Pod watches after the server stopped, want %v", n, beforeNamespaced)
				}
				return nil
			})
		})
	}
}
