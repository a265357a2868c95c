package usedby

import (
	"reflect"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// configMapPod is a Pod of ReplicaSet frontend-abc with these volumes and
// the service-account volume the ServiceAccount admission plugin adds.
func configMapPod(name string, volumes ...corev1.Volume) *corev1.Pod {
	controller := true
	serviceAccount := corev1.Volume{Name: "kube-api-access-x2k9q", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To(int64(3607))}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace",
				FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}}}},
		},
	}}}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: name,
			OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "frontend-abc", Controller: &controller}}},
		Spec: corev1.PodSpec{
			Volumes: append(volumes, serviceAccount),
			Containers: []corev1.Container{{Name: "web", EnvFrom: []corev1.EnvFromSource{
				{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}},
			}}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
}

func configMapVolume(name string) corev1.Volume {
	return corev1.Volume{Name: "cm-" + name, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: name}}}}
}

func projectedVolume(sources ...corev1.VolumeProjection) corev1.Volume {
	return corev1.Volume{Name: "projected", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: sources}}}
}

func projectedConfigMap(name string) corev1.VolumeProjection {
	return corev1.VolumeProjection{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: name}}}
}

func keptPodOf(t *testing.T, pod *corev1.Pod) *keptPod {
	t.Helper()
	obj, err := transformPod(pod)
	if err != nil {
		t.Fatal(err)
	}
	return obj.(*keptPod)
}

// The Pod transform keeps the ConfigMaps mounted as a volume or a projected
// source, beside the Secrets, and leaves out the service-account volume's
// kube-root-ca.crt and ConfigMaps read into the environment.
func TestTransformPodConfigMaps(t *testing.T) {
	pod := configMapPod("frontend-abc-1",
		configMapVolume("trust-bundle"),
		corev1.Volume{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "web-tls"}}},
		projectedVolume(
			projectedConfigMap("istio-ca-root-cert"),
			corev1.VolumeProjection{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "client-ca"}}},
		),
	)
	kept := keptPodOf(t, pod)
	if got, want := slices.Collect(kept.configMaps()), []string{"trust-bundle", "istio-ca-root-cert"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ConfigMaps %v, want %v", got, want)
	}
	if got, want := slices.Collect(kept.secrets()), []string{"web-tls", "client-ca"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Secrets %v, want %v", got, want)
	}

	// A Pod with only the service-account volume mounts no ConfigMap, and
	// costs what it did before ConfigMaps were kept.
	if kept := keptPodOf(t, configMapPod("plain")); kept.mounts != "" {
		t.Errorf("the service-account volume is kept as %q", kept.mounts)
	}
	// kube-root-ca.crt mounted on its own, or beside another ConfigMap in a
	// volume without a token, is a use; so is another ConfigMap projected
	// beside a token.
	for _, volume := range []corev1.Volume{
		configMapVolume("kube-root-ca.crt"),
		projectedVolume(projectedConfigMap("kube-root-ca.crt"), projectedConfigMap("extra")),
	} {
		kept := keptPodOf(t, configMapPod("own", volume))
		if !slices.Contains(slices.Collect(kept.configMaps()), "kube-root-ca.crt") {
			t.Errorf("volume %s: kube-root-ca.crt not kept: %q", volume.Name, kept.mounts)
		}
	}
	withToken := projectedVolume(projectedConfigMap("custom-ca"),
		corev1.VolumeProjection{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", Audience: "vault"}})
	if got := slices.Collect(keptPodOf(t, configMapPod("token", withToken)).configMaps()); !reflect.DeepEqual(got, []string{"custom-ca"}) {
		t.Errorf("beside a token: ConfigMaps %v, want [custom-ca]", got)
	}
}

// A ConfigMap's users are the Pods mounting it, by volume or projected
// source, counted under their controlling workload; the service-account
// volume is no use; a deleted Pod stops counting; the ConfigMaps' changes
// are heard apart from the Secrets'.
func TestIndexConfigMapsByWorkload(t *testing.T) {
	var secrets, configMaps recorder
	x := NewIndexWithConfigMaps(secrets.hear, configMaps.hear)
	st := newStore(x)
	bundle := SecretRef{"web", "trust-bundle"}
	rootCA := SecretRef{"web", "kube-root-ca.crt"}
	st.putOwner(&keptOwner{compactMeta: newCompactMeta("web", "frontend-abc"), kind: "ReplicaSet", controllerKind: "Deployment", controllerName: "frontend"})
	st.putPod(key(KindPod, "web", "frontend-abc-1"), keptPodOf(t, configMapPod("frontend-abc-1", configMapVolume("trust-bundle"))))
	st.putPod(key(KindPod, "web", "frontend-abc-2"), keptPodOf(t, configMapPod("frontend-abc-2", projectedVolume(projectedConfigMap("trust-bundle")))))
	st.putPod(key(KindPod, "web", "plain"), keptPodOf(t, configMapPod("plain")))
	if got := configMaps.take(); !reflect.DeepEqual(got, []SecretRef{bundle, bundle}) {
		t.Errorf("ConfigMaps heard %v", got)
	}
	if got := secrets.take(); len(got) != 0 {
		t.Errorf("Secrets heard %v for Pods mounting only ConfigMaps", got)
	}

	want := []User{{Kind: "Deployment", Namespace: "web", Name: "frontend", Pods: 2}}
	if got := x.ConfigMapUsers(bundle).list(); !reflect.DeepEqual(got, want) {
		t.Errorf("users of the bundle = %+v\nwant %+v", got, want)
	}
	if got := x.ConfigMapUsers(rootCA); got != nil {
		t.Errorf("kube-root-ca.crt is used by %+v through the service-account volume", got.list())
	}
	if got := x.Users(bundle); got != nil {
		t.Errorf("a Secret named like the ConfigMap is used by %+v", got.list())
	}

	// The decorator serves them as status.usedBy, and Used tells the metrics.
	decorated := x.ConfigMaps().Decorate(statuscache.Key{Namespace: "web", Name: "trust-bundle"}, &fakeAnalysis{})
	status := decorated.StatusAt(time.Now())
	if want := []certstatus.UsedBy{{Kind: "Deployment", Namespace: "web", Name: "frontend", Pods: 2}}; !reflect.DeepEqual(status.UsedBy, want) {
		t.Errorf("usedBy %+v, want %+v", status.UsedBy, want)
	}
	if used, ok := decorated.(interface{ Used() bool }); !ok || !used.Used() {
		t.Errorf("the decorated bundle does not say it is used")
	}
	if undecorated := x.ConfigMaps().Decorate(statuscache.Key{Namespace: "web", Name: "kube-root-ca.crt"}, &fakeAnalysis{}); undecorated.StatusAt(time.Now()).UsedBy != nil {
		t.Errorf("kube-root-ca.crt decorated with users")
	}

	// A deleted Pod stops counting; the last one takes the use with it.
	st.putPod(key(KindPod, "web", "frontend-abc-1"), nil)
	if got := configMaps.take(); !reflect.DeepEqual(got, []SecretRef{bundle}) {
		t.Errorf("ConfigMaps heard %v", got)
	}
	want = []User{{Kind: "Deployment", Namespace: "web", Name: "frontend", Pods: 1}}
	if got := x.ConfigMapUsers(bundle).list(); !reflect.DeepEqual(got, want) {
		t.Errorf("users after a delete = %+v\nwant %+v", got, want)
	}
	st.putPod(key(KindPod, "web", "frontend-abc-2"), nil)
	st.putPod(key(KindPod, "web", "plain"), nil)
	if got := x.ConfigMapUsers(bundle); got != nil || len(x.byConfigMap) != 0 {
		t.Errorf("left behind: %+v, %d namespaces", got.list(), len(x.byConfigMap))
	}
}

// A ReplicaSet whose controller appears moves its Pods' ConfigMaps to the
// Deployment, heard as ConfigMap changes.
func TestIndexConfigMapsOwnerChanged(t *testing.T) {
	var configMaps recorder
	x := NewIndexWithConfigMaps(nil, configMaps.hear)
	st := newStore(x)
	bundle := SecretRef{"web", "trust-bundle"}
	st.putPod(key(KindPod, "web", "frontend-abc-1"), keptPodOf(t, configMapPod("frontend-abc-1", configMapVolume("trust-bundle"))))
	if got := x.ConfigMapUsers(bundle).list(); len(got) != 1 || got[0].Kind != "ReplicaSet" {
		t.Fatalf("before the ReplicaSet's metadata: %+v", got)
	}
	configMaps.take()
	st.putOwner(&keptOwner{compactMeta: newCompactMeta("web", "frontend-abc"), kind: "ReplicaSet", controllerKind: "Deployment", controllerName: "frontend"})
	if got := configMaps.take(); !reflect.DeepEqual(got, []SecretRef{bundle}) {
		t.Errorf("ConfigMaps heard %v", got)
	}
	if got := x.ConfigMapUsers(bundle).list(); len(got) != 1 || got[0].Kind != "Deployment" || got[0].Name != "frontend" {
		t.Errorf("after the ReplicaSet's metadata: %+v", got)
	}
}
