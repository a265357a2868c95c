package secrets

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/pkg/intern"
	"github.com/certstatus/certstatus/pkg/watchtest"
)

func TestAnalyseInParallelKeepsOrderAndAnalysesEverySecret(t *testing.T) {
	upstream := watch.NewFakeWithChanSize(200, false)
	w := analyseInParallel(upstream, transform(certificate.DefaultOptions(), &intern.LabelSets{}, nil, nil))
	defer w.Stop()

	ca := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "Parallel CA"}))
	leaf := certtest.Must(ca.NewLeaf(certtest.Spec{CommonName: "parallel.example.com"}))
	for i := 0; i < 100; i++ {
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: fmt.Sprintf("s%03d", i), ResourceVersion: fmt.Sprint(i + 1)},
			Type:       corev1.SecretTypeTLS,
			Data:       map[string][]byte{"tls.crt": leaf.PEM(), "tls.key": certtest.Must(leaf.KeyPEM(certtest.PKCS8))},
		}
		if i%10 == 9 {
			secret.Data = map[string][]byte{"tls.crt": []byte("garbage")} // slower and faster ones mixed
		}
		upstream.Add(secret)
	}
	upstream.Action(watch.Bookmark, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{
		ResourceVersion: "101", Annotations: map[string]string{metav1.InitialEventsAnnotationKey: "true"},
	}})

	for i := 0; i < 100; i++ {
		event := watchtest.Next(t, w, 10*time.Second)
		secret, ok := event.Object.(*analysedSecret)
		if !ok || event.Type != watch.Added {
			t.Fatalf("event %d: %s %T, want ADDED *analysedSecret", i, event.Type, event.Object)
		}
		if want := fmt.Sprintf("s%03d", i); secret.Name != want || secret.analysis == nil {
			t.Fatalf("event %d is %s (analysed: %v), want %s analysed: order lost", i, secret.Name, secret.analysis != nil, want)
		}
	}
	bookmark := watchtest.Next(t, w, 10*time.Second)
	if m, ok := bookmark.Object.(*analysedSecret); bookmark.Type != watch.Bookmark || !ok ||
		m.ResourceVersion != "101" || m.Annotations[metav1.InitialEventsAnnotationKey] != "true" {
		t.Errorf("bookmark %s %+v, want the initial-events-end annotation and resourceVersion 101", bookmark.Type, bookmark.Object)
	}
}

func TestAnalyseInParallelStopsTheUpstreamWatch(t *testing.T) {
	upstream := watch.NewFake()
	w := analyseInParallel(upstream, transform(certificate.DefaultOptions(), &intern.LabelSets{}, nil, nil))
	w.Stop()
	w.Stop() // idempotent
	if !upstream.IsStopped() {
		t.Error("Stop did not stop the upstream watch")
	}
	select {
	case _, ok := <-w.ResultChan():
		if ok {
			t.Error("an event after Stop")
		}
	case <-time.After(5 * time.Second):
		t.Error("the result channel was not closed after Stop")
	}
}
