package registrationsource

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestKeepPodKeepsLabelsPhaseAndMountedSecrets(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "hook-0", Namespace: "hooks", Labels: map[string]string{"app": "hook"},
			Annotations: map[string]string{"big": "dropped"}, ResourceVersion: "7"},
		Spec: corev1.PodSpec{Volumes: []corev1.Volume{
			{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "hook-tls"}}},
			{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}},
			{Name: "projected", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "client-tls"}}},
				{ConfigMap: &corev1.ConfigMapProjection{}},
			}}}},
		}, Containers: []corev1.Container{{Name: "app", Image: "app"}}},
		Status: corev1.PodStatus{Phase: corev1.PodPending, Message: "dropped"},
	}
	kept, _ := keepPod(pod)
	again, _ := keepPod(kept)
	if !reflect.DeepEqual(kept, again) {
		t.Fatal("keepPod is not idempotent")
	}
	c := &cluster{}
	got := c.podOf(kept.(*corev1.Pod))
	if got.Name != "hook-0" || got.Phase != corev1.PodPending || got.Labels["app"] != "hook" || !reflect.DeepEqual(got.Secrets, []string{"hook-tls", "client-tls"}) {
		t.Fatalf("kept %+v", got)
	}
	k := kept.(*corev1.Pod)
	if k.Annotations != nil || k.ResourceVersion != "" || len(k.Spec.Containers) != 0 || k.Status.Message != "" {
		t.Fatalf("keepPod kept more than it needs: %+v", k)
	}
}
