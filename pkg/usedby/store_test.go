package usedby

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
)

// The Pods' store hands the index each change with the previous version,
// and a relist deletes the Pods it no longer lists.
func TestPodStore(t *testing.T) {
	controller := true
	newPod := func(name, secret string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name,
				OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "frontend-abc", Controller: &controller}}},
			Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}}}},
		}
	}
	type change struct{ old, current string } // "name:secrets", "" for none
	var changes []change
	describe := func(p *keptPod) string {
		if p == nil {
			return ""
		}
		return p.name + ":" + string(p.mounts)
	}
	store := newPodStore(func(old, current *keptPod) { changes = append(changes, change{describe(old), describe(current)}) })
	expect := func(step string, want ...change) {
		t.Helper()
		if !reflect.DeepEqual(changes, want) {
			t.Errorf("%s: changes %v, want %v", step, changes, want)
		}
		changes = nil
	}

	if err := store.Replace([]interface{}{newPod("a", "web-tls"), newPod("b", "web-tls")}, "1"); err != nil {
		t.Fatal(err)
	}
	expect("list", change{"", "a:web-tls"}, change{"", "b:web-tls"})
	if !store.synced.Load() || store.len() != 2 {
		t.Fatalf("after the list: synced %v, %d Pods", store.synced.Load(), store.len())
	}
	_ = store.Update(newPod("a", "other-tls"))
	expect("update", change{"a:web-tls", "a:other-tls"})
	_ = store.Delete(toolscache.DeletedFinalStateUnknown{Key: "web/b", Obj: newPod("b", "web-tls")})
	expect("delete", change{"b:web-tls", ""})
	_ = store.Delete(newPod("b", "web-tls"))
	expect("delete again")
	_ = store.Add(newPod("c", "web-tls"))
	expect("add", change{"", "c:web-tls"})
	// A relist without a: a is deleted, c updated in place.
	if err := store.Replace([]interface{}{newPod("c", "web-tls")}, "2"); err != nil {
		t.Fatal(err)
	}
	expect("relist", change{"c:web-tls", "c:web-tls"}, change{"a:other-tls", ""})
	if store.len() != 1 {
		t.Errorf("%d Pods kept after the relist, want 1", store.len())
	}
}

// The Ingresses' store keeps the serving object itself and hands the index
// the very object it stored as the previous version.
func TestServingStore(t *testing.T) {
	newIngress := func(name, secret string) *networkingv1.Ingress {
		return &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name},
			Spec:       networkingv1.IngressSpec{TLS: []networkingv1.IngressTLS{{SecretName: secret, Hosts: []string{name + ".example.com"}}}},
		}
	}
	var olds, currents []*servingObject
	store := newServingStore(transformIngress, func(old, current *servingObject) {
		olds, currents = append(olds, old), append(currents, current)
	})
	if err := store.Replace([]interface{}{newIngress("a", "a-tls"), newIngress("b", "b-tls")}, "1"); err != nil {
		t.Fatal(err)
	}
	if len(currents) != 2 || olds[0] != nil || olds[1] != nil || !store.synced.Load() {
		t.Fatalf("list: old %v, current %v, synced %v", olds, currents, store.synced.Load())
	}
	first := currents[0]
	olds, currents = nil, nil
	_ = store.Update(newIngress("a", "other-tls"))
	if len(olds) != 1 || olds[0] != first || currents[0].refs[0].secret.Name != "other-tls" {
		t.Fatalf("update: old %v (want the stored %p), current %v", olds, first, currents)
	}
	olds, currents = nil, nil
	if err := store.Replace([]interface{}{newIngress("a", "other-tls")}, "2"); err != nil {
		t.Fatal(err)
	}
	if len(olds) != 2 || olds[1].name != "b" || currents[1] != nil || store.len() != 1 {
		t.Fatalf("relist: old %v, current %v, %d kept", olds, currents, store.len())
	}
}
