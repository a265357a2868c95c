package usedby

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
)

// recordingPods is a PodListener that records what it hears.
type recordingPods struct {
	changed []string // "namespace/name:secrets", ":-" for nil
	listed  [][]*PodView
	refused []string
}

func (r *recordingPods) PodChanged(namespace, name string, view *PodView) {
	entry := namespace + "/" + name + ":-"
	if view != nil {
		entry = namespace + "/" + name + ":" + string(view.Phase) + ":" + nameListOf(view.Secrets)
	}
	r.changed = append(r.changed, entry)
}
func (r *recordingPods) PodsListed(_ string, views []*PodView) { r.listed = append(r.listed, views) }
func (r *recordingPods) PodsRefused(namespace string)          { r.refused = append(r.refused, namespace) }

func nameListOf(names []string) string {
	var l nameList
	for _, n := range names {
		l.add(n)
	}
	return string(l)
}

func feedPod(name string, phase corev1.PodPhase, labels map[string]string, volumes []corev1.Volume, env ...corev1.EnvFromSource) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "hooks", Name: name, Labels: labels},
		Spec:       corev1.PodSpec{Volumes: volumes, Containers: []corev1.Container{{Name: "app", Image: "app", EnvFrom: env}}},
		Status:     corev1.PodStatus{Phase: phase},
	}
}

// A Pod has a view only when it is not finished and mounts a Secret (a
// volume or a projected source; not the environment), and the view has
// what Trusted reads.
func TestPodViews(t *testing.T) {
	tls := []corev1.Volume{
		{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "hook-tls"}}},
		{Name: "both", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "client-tls"}}},
			{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "hook-tls"}}},
		}}}},
	}
	fromEnv := corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "env-only"}}}
	transform := podTransform(true)
	view := func(pod *corev1.Pod) *PodView {
		t.Helper()
		kept, err := transform(pod)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := transform(kept)
		if again != kept {
			t.Fatal("the transform is not idempotent")
		}
		return kept.(*keptPod).view
	}
	labels := map[string]string{"app": "hook"}
	got := view(feedPod("hook-1", corev1.PodRunning, labels, tls, fromEnv))
	want := &PodView{Namespace: "hooks", Name: "hook-1", Phase: corev1.PodRunning, Labels: labels, Secrets: []string{"hook-tls", "client-tls"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("view %+v, want %+v", got, want)
	}
	if v := view(feedPod("env-only", corev1.PodRunning, labels, nil, fromEnv)); v != nil {
		t.Errorf("a Pod reading a Secret only into its environment has a view: %+v", v)
	}
	if v := view(feedPod("done", corev1.PodSucceeded, labels, tls)); v != nil {
		t.Errorf("a finished Pod has a view: %+v", v)
	}
	// Without a listener no view is made: what usedBy keeps is as before.
	kept, _ := transformPod(feedPod("hook-1", corev1.PodRunning, labels, tls, fromEnv))
	if p := kept.(*keptPod); p.view != nil || string(p.mounts) != "hook-tls/client-tls/env-only" {
		t.Errorf("transformPod kept %+v", p)
	}
}

// The feed hands every change to the store and the listener; a streaming
// list (whose temporary store applies the Transformer first) hands the
// listener the same views as a plain list. Without a store (usedBy's Pod
// kind off) the listener alone is fed and nothing is kept.
func TestPodFeed(t *testing.T) {
	tls := []corev1.Volume{{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "hook-tls"}}}}
	hook := feedPod("hook-1", corev1.PodRunning, map[string]string{"app": "hook"}, tls)
	plain := feedPod("plain", corev1.PodRunning, nil, nil)
	for _, streaming := range []bool{false, true} {
		for _, counted := range []bool{true, false} {
			listener := &recordingPods{}
			var puts int
			var store *objectStore[*keptPod, podFields]
			if counted {
				store = newPodStore(func(_, _ *keptPod) { puts++ })
			}
			feed := newPodFeed("hooks", store, listener)
			list := []interface{}{hook, plain}
			if streaming {
				// client-go's watch-list keeps what the Transformer made
				// until the initial events end, then calls Replace.
				temporary := toolscache.NewStore(toolscache.DeletionHandlingMetaNamespaceKeyFunc)
				for i, obj := range list {
					transformed, _ := feed.Transformer()(obj)
					_ = temporary.Add(transformed)
					list[i] = transformed
				}
			}
			if err := feed.Replace(list, "1"); err != nil {
				t.Fatal(err)
			}
			if len(listener.listed) != 1 || len(listener.listed[0]) != 1 || listener.listed[0][0].Name != "hook-1" ||
				listener.listed[0][0].Labels["app"] != "hook" || !feed.synced.Load() {
				t.Fatalf("streaming %v: listed %+v", streaming, listener.listed)
			}
			_ = feed.Update(feedPod("hook-1", corev1.PodPending, map[string]string{"app": "hook"}, tls))
			_ = feed.Delete(toolscache.DeletedFinalStateUnknown{Key: "hooks/hook-1", Obj: hook})
			_ = feed.Add(plain)
			if want := []string{"hooks/hook-1:Pending:hook-tls", "hooks/hook-1:-", "hooks/plain:-"}; !reflect.DeepEqual(listener.changed, want) {
				t.Errorf("streaming %v: changes %q, want %q", streaming, listener.changed, want)
			}
			if counted && (puts == 0 || store.len() != 1) {
				t.Errorf("streaming %v: usedBy's store had %d puts, keeps %d Pods", streaming, puts, store.len())
			}
		}
	}
}
