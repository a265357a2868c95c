package registrations

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// servingFixture is a webhook Service ns/hook whose Pods mount a serving
// Secret and a client certificate, issued by hookCA.
type servingFixture struct {
	hookCA, otherCA *certtest.Certificate
	serving         *certtest.Certificate
	cluster         *fakeCluster
}

func newServingFixture(t *testing.T) servingFixture {
	t.Helper()
	hookCA, otherCA := newCA(t, "Hook CA"), newCA(t, "Other CA")
	leaf := func(names ...string) *certtest.Certificate {
		return certtest.Must(hookCA.NewLeaf(certtest.Spec{CommonName: names[0], DNSNames: names, KeyAlgorithm: certtest.ECDSA,
			NotBefore: epoch.Add(-day), NotAfter: epoch.Add(90 * day)}))
	}
	serving := leaf("hook.ns.svc", "hook.ns.svc.cluster.local")
	return servingFixture{hookCA: hookCA, otherCA: otherCA, serving: serving, cluster: &fakeCluster{
		secrets: map[string]*certificate.Analysis{
			"ns/hook-tls":   tlsSecret(t, serving),
			"ns/client-tls": tlsSecret(t, leaf("client.ns.svc")), // has a served chain, but for another host
			"ns/plain":      tlsSecret(t, leaf("web.example.com")),
		},
		certificates: map[string][]string{"ns/hook-cert": {"hook-tls"}},
		services:     map[string]map[string]string{"ns/hook": {"app": "hook"}, "ns/bare": nil},
		pods: map[string][]Pod{"ns": {
			{Name: "hook-1", Phase: corev1.PodRunning, Labels: map[string]string{"app": "hook", "pod": "1"}, Secrets: []string{"client-tls", "hook-tls"}},
			{Name: "hook-2", Phase: corev1.PodPending, Labels: map[string]string{"app": "hook"}, Secrets: []string{"hook-tls", "missing"}},
			{Name: "hook-old", Phase: corev1.PodSucceeded, Labels: map[string]string{"app": "hook"}, Secrets: []string{"plain"}},
			{Name: "other", Phase: corev1.PodRunning, Labels: map[string]string{"app": "other"}, Secrets: []string{"plain"}},
		}},
	}}
}

func webhookBundle(pem []byte, service *ServiceReference, url bool) CABundle {
	return CABundle{Key: "webhooks[hook.example.com].clientConfig.caBundle", PEM: pem, Service: service, URL: url,
		Webhook: &Webhook{Name: "hook.example.com", FailurePolicy: "Ignore"}}
}

func TestFindServing(t *testing.T) {
	f := newServingFixture(t)
	hook := &ServiceReference{Namespace: "ns", Name: "hook"}
	cases := []struct {
		name                       string
		injectFromSecret, injectCA string
		service                    *ServiceReference
		url                        bool
		pods                       []Pod  // replaces the namespace's Pods when set
		unwatched                  bool   // ns is outside --namespaces
		want                       string // the Secrets found, or the reason
	}{
		{name: "inject-ca-from-secret", injectFromSecret: "ns/hook-tls", service: hook, want: "ns/hook-tls"},
		{name: "inject-ca-from", injectCA: "ns/hook-cert", service: hook, want: "ns/hook-tls"},
		{name: "inject-ca-from-secret wins", injectFromSecret: "ns/hook-tls", injectCA: "ns/nothing", service: hook, want: "ns/hook-tls"},
		{name: "annotated Secret missing", injectFromSecret: "ns/missing", service: hook, want: ReasonSecretNotFound},
		{name: "Certificate without Secret", injectCA: "ns/nothing", service: hook, want: ReasonSecretNotFound},
		{name: "annotated Secret serves no service host", injectFromSecret: "ns/plain", service: hook, want: ReasonNoServedChain},
		{name: "malformed annotation", injectFromSecret: "hook-tls", service: hook, want: ReasonInvalidAnnotation},
		{name: "Pods of the Service", service: hook, want: "ns/hook-tls"},
		{name: "url", url: true, want: ReasonURLClientConfig},
		{name: "Service not found", service: &ServiceReference{Namespace: "ns", Name: "gone"}, want: ReasonServiceNotFound},
		{name: "Service without selector", service: &ServiceReference{Namespace: "ns", Name: "bare"}, want: ReasonNoPods},
		{name: "no running or pending Pods", service: hook, pods: []Pod{{Name: "done", Phase: corev1.PodSucceeded, Labels: map[string]string{"app": "hook"}, Secrets: []string{"hook-tls"}}}, want: ReasonNoPods},
		// With --namespaces, a namespace not watched says so rather than
		// "no Pods" or "no Secret".
		{name: "Service in a namespace not watched", service: hook, unwatched: true, want: ReasonNotWatched},
		{name: "annotated Secret in a namespace not watched", injectFromSecret: "ns/hook-tls", service: hook, unwatched: true, want: ReasonNotWatched},
		{name: "Pods mount only a client certificate", service: hook, pods: []Pod{{Name: "c", Phase: corev1.PodRunning, Labels: map[string]string{"app": "hook"}, Secrets: []string{"client-tls", "plain"}}}, want: ReasonNoServingSecret},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cluster := *f.cluster
			if c.pods != nil {
				cluster.pods = map[string][]Pod{"ns": c.pods}
			}
			if c.unwatched {
				cluster.unwatched = map[string]bool{"ns": true}
			}
			r := &Registration{Kind: KindValidatingWebhookConfiguration, InjectCAFromSecret: c.injectFromSecret, InjectCAFrom: c.injectCA}
			serving, applies := FindServing(r, webhookBundle(f.hookCA.PEM(), c.service, c.url), &cluster)
			if !applies {
				t.Fatal("does not apply")
			}
			got := serving.Reason
			if len(serving.Secrets) > 0 {
				var names []string
				for _, s := range serving.Secrets {
					names = append(names, s.String())
					if len(s.Chain) == 0 {
						t.Errorf("%s has no chain", s)
					}
				}
				got = strings.Join(names, ",")
			} else if serving.Message == "" {
				t.Error("no message")
			}
			if got != c.want {
				t.Errorf("got %q (%s), want %q", got, serving.Message, c.want)
			}
		})
	}
	if _, applies := FindServing(&Registration{Kind: KindClusterTrustBundle}, CABundle{Key: "spec.trustBundle", PEM: f.hookCA.PEM()}, f.cluster); applies {
		t.Error("a ClusterTrustBundle has serving Secrets to look for")
	}
}

func TestDecide(t *testing.T) {
	f := newServingFixture(t)
	hook := &ServiceReference{Namespace: "ns", Name: "hook"}
	opts := certificate.DefaultOptions()

	trusted := Decide(&Registration{CABundles: []CABundle{webhookBundle(f.hookCA.PEM(), hook, false)}}, f.cluster, opts)
	if !trusted.Applies || trusted.Status != metav1.ConditionTrue || trusted.Reason != ReasonTrusted || trusted.Validity == nil {
		t.Fatalf("got %+v, want True with a validity", trusted)
	}
	// The path is the leaf (90 days, window 29.7 d) and Hook CA: the leaf bounds it.
	leaf := f.serving.Certificate
	if !trusted.Validity.NotAfter.Equal(leaf.NotAfter) || !trusted.Validity.NotBefore.Equal(leaf.NotBefore) || !trusted.Validity.ExpiringSoonAt.Before(leaf.NotAfter) {
		t.Errorf("validity %+v, want the leaf's %v..%v", trusted.Validity, leaf.NotBefore, leaf.NotAfter)
	}
	if got := trusted.Serving["webhooks[hook.example.com].clientConfig.caBundle"]; len(got) != 1 || got[0].String() != "ns/hook-tls" {
		t.Errorf("serving %v", trusted.Serving)
	}

	mismatch := Decide(&Registration{CABundles: []CABundle{webhookBundle(f.otherCA.PEM(), hook, false)}}, f.cluster, opts)
	if mismatch.Status != metav1.ConditionFalse || mismatch.Reason != ReasonCABundleMismatch || mismatch.Validity != nil ||
		!strings.Contains(mismatch.Message, "ns/hook-tls") || !strings.Contains(mismatch.Message, "CN=Hook CA") {
		t.Errorf("got %+v, want False naming the Secret and the missing issuer", mismatch)
	}

	urlOnly := Decide(&Registration{CABundles: []CABundle{webhookBundle(f.hookCA.PEM(), nil, true)}}, f.cluster, opts)
	if urlOnly.Status != metav1.ConditionUnknown || urlOnly.Reason != ReasonURLClientConfig {
		t.Errorf("got %+v, want Unknown/URLClientConfig", urlOnly)
	}

	url := webhookBundle(f.hookCA.PEM(), nil, true)
	url.Key = "webhooks[url.example.com].clientConfig.caBundle"
	mixed := Decide(&Registration{CABundles: []CABundle{webhookBundle(f.hookCA.PEM(), hook, false), url}}, f.cluster, opts)
	if mixed.Status != metav1.ConditionTrue || !strings.Contains(mixed.Message, "url.example.com") {
		t.Errorf("got %+v, want True that names the url webhook", mixed)
	}

	if got := Decide(&Registration{CABundles: []CABundle{{Key: "spec.trustBundle", PEM: f.hookCA.PEM()}}}, f.cluster, opts); got.Applies {
		t.Errorf("a ClusterTrustBundle has a Trusted condition: %+v", got)
	}
}

// TestDecideWithoutPods: a registration whose Service has no Pods is
// Unknown, saying so.
func TestDecideWithoutPods(t *testing.T) {
	f := newServingFixture(t)
	f.cluster.pods = nil
	got := Decide(&Registration{CABundles: []CABundle{webhookBundle(f.hookCA.PEM(), &ServiceReference{Namespace: "ns", Name: "hook"}, false)}}, f.cluster, certificate.DefaultOptions())
	if got.Status != metav1.ConditionUnknown || got.Reason != ReasonNoPods || !strings.Contains(got.Message, "ns/hook") {
		t.Errorf("got %+v, want Unknown/NoPods naming the Service", got)
	}
}
