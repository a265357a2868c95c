package e2e

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// The watch contract of certificatestatuses holds for the other two
// resources as well (TestWatchStreamingList and TestWatchResume show it
// for Secrets): a streaming list ends with the initial-events bookmark of
// the right kind, a made-up resourceVersion answers 410 Gone, and a
// registration whose caBundle expires is a MODIFIED from the clock alone,
// with a newer resourceVersion.
func TestStreamingListResumeAndClockOfConfigMapsAndRegistrations(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	now := time.Now().Truncate(time.Second)
	root := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "E2E Stream Root", KeyAlgorithm: certtest.ECDSA}))
	createConfigMap(t, configMap(ns, "streamed", nil, map[string]string{"ca.crt": string(root.PEM())}))
	waitConfigMapStatuses(t, ns, "streamed")

	// A webhook whose caBundle expires 40 s from now; its Service has no
	// Pods, so Trusted is Unknown and the state follows the caBundle.
	notAfter := now.Add(40 * time.Second)
	short := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "E2E Short CA", KeyAlgorithm: certtest.ECDSA, NotBefore: now.Add(-time.Hour), NotAfter: notAfter}))
	configuration := "e2e-clock-" + ns
	name := "validatingwebhookconfiguration." + configuration
	createWebhookConfiguration(t, configuration, testWebhook("clock.e2e.certstatus.dev", webhookBackend(t, ns, "clock", ""), short.PEM()))
	waitTrusted(t, name, metav1.ConditionUnknown)

	for _, tc := range []struct {
		resource, namespace, kind, fieldSelector, want string
	}{
		{"configmapcertificatestatuses", ns, "ConfigMapCertificateStatus", "metadata.name=streamed", "streamed"},
		{"clustercertificatestatuses", "", "ClusterCertificateStatus", "metadata.name=" + name, name},
	} {
		t.Run(tc.resource, func(t *testing.T) {
			events := rawWatch(t, tc.resource, tc.namespace, map[string]string{
				"sendInitialEvents": "true", "resourceVersionMatch": "NotOlderThan", "allowWatchBookmarks": "true", "fieldSelector": tc.fieldSelector})
			ev := events.next(t, 20*time.Second)
			if ev.Type != watch.Added || ev.Object.Metadata.Name != tc.want || ev.Object.Kind != tc.kind {
				t.Fatalf("first event %s %s %s, want ADDED %s %s", ev.Type, ev.Object.Kind, ev.Object.Metadata.Name, tc.kind, tc.want)
			}
			added := mustParseRV(t, ev.Object.Metadata.ResourceVersion)
			ev = events.next(t, 20*time.Second)
			if ev.Type != watch.Bookmark || ev.Object.Kind != tc.kind || ev.Object.APIVersion != "certstatus.dev/v1alpha1" ||
				ev.Object.Metadata.Annotations[metav1.InitialEventsAnnotationKey] != "true" || mustParseRV(t, ev.Object.Metadata.ResourceVersion) < added {
				t.Fatalf("after the initial event: %s %s %s %v, want the initial-events-end BOOKMARK", ev.Type, ev.Object.Kind, ev.Object.Metadata.ResourceVersion, ev.Object.Metadata.Annotations)
			}

			request := env.certs.CertstatusV1alpha1().RESTClient().Get().Resource(tc.resource).Param("watch", "true").Param("resourceVersion", "1")
			if tc.namespace != "" {
				request = request.Namespace(tc.namespace)
			}
			if w, err := request.Watch(context.Background()); err == nil {
				// A watch may also report 410 as its first event.
				ev, ok := <-w.ResultChan()
				w.Stop()
				if status, isStatus := ev.Object.(*metav1.Status); !ok || ev.Type != watch.Error || !isStatus || status.Code != 410 {
					t.Errorf("watch from resourceVersion 1: %s %v, want 410 Gone", ev.Type, ev.Object)
				}
			} else if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
				t.Errorf("watch from resourceVersion 1: %v, want 410 Gone", err)
			}

			if tc.resource != "clustercertificatestatuses" {
				return
			}
			ev = events.next(t, time.Until(notAfter)+15*time.Second)
			if ev.Type != watch.Modified || ev.Object.Metadata.Name != name || ev.Object.Status.State != "Expired" ||
				mustParseRV(t, ev.Object.Metadata.ResourceVersion) <= added {
				t.Fatalf("at notAfter: %s %s %s rv %s, want MODIFIED Expired newer than %d", ev.Type, ev.Object.Metadata.Name, ev.Object.Status.State, ev.Object.Metadata.ResourceVersion, added)
			}
			if late := time.Since(notAfter); late > 5*time.Second || late < 0 {
				t.Errorf("Expired arrived %s after notAfter", late)
			}
		})
	}
}
