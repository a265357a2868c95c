package usedby

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// The Pods' store hands the index each change with the previous version,
// and a relist deletes the Pods it no longer lists.
func TestPodStore(t *testing.T) {
	newPod := func(name, secret string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name,
				OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "frontend-abc", Controller: ptr.To(true)}}},
			Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}}}},
		}
	}
	type change struct{ old, current string } // "name:secrets", "" for none
	var changes []change
	describe := func(p *keptPod) string {
		if p == nil {
			return ""
		}
		return p.name + ":" + string(p.secrets)
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
