package usedby

import (
	"reflect"
	"testing"
	"time"
	"unique"
	"unsafe"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

var created = time.Date(2026, time.March, 1, 10, 0, 0, 0, time.UTC)

func TestTransformIngress(t *testing.T) {
	ingress := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "frontend", CreationTimestamp: metav1.NewTime(created),
			Annotations: map[string]string{
				AuthTLSSecretAnnotation:                            "pki/client-ca",
				"kubectl.kubernetes.io/last-applied-configuration": "{secret}",
			},
			Labels: map[string]string{"app": "web"}},
		Spec: networkingv1.IngressSpec{TLS: []networkingv1.IngressTLS{
			{SecretName: "web-tls", Hosts: []string{"Web.Example.com.", "", "api.example.com"}},
			{SecretName: "web-tls", Hosts: []string{"web.example.com", "www.example.com"}},
			{SecretName: "", Hosts: []string{"default.example.com"}}, // the controller's default certificate
			{SecretName: "other-tls"},
		}},
	}
	obj, err := transformIngress(ingress)
	if err != nil {
		t.Fatal(err)
	}
	kept := obj.(*servingObject)
	want := &servingObject{
		compactMeta: newCompactMeta("web", "frontend"), kind: unique.Make(KindIngress), created: created.Unix(),
		refs: []reference{
			{secret: SecretRef{"web", "web-tls"}, hosts: hostList("web.example.com", "api.example.com", "www.example.com")},
			{secret: SecretRef{"web", "other-tls"}},
			{secret: SecretRef{"pki", "client-ca"}},
		},
	}
	if !reflect.DeepEqual(kept, want) {
		t.Errorf("kept %+v\nwant %+v", kept, want)
	}
	// Idempotent: a kept object passes through.
	if again, _ := transformIngress(kept); again != kept {
		t.Error("transform is not idempotent")
	}
	// A client CA named without a namespace is in the Ingress's.
	ingress.Annotations[AuthTLSSecretAnnotation] = "client-ca"
	obj, _ = transformIngress(ingress)
	if got := obj.(*servingObject).refs[2].secret; got != (SecretRef{"web", "client-ca"}) {
		t.Errorf("client CA %v", got)
	}
	// A name that starts the Secret's name or a host shares its bytes.
	ingress.Name = "web"
	kept = transformIngressOf(t, ingress)
	if unsafe.StringData(kept.name) != unsafe.StringData(kept.refs[0].secret.Name) {
		t.Errorf("the name %q is a copy of the Secret's %q", kept.name, kept.refs[0].secret.Name)
	}
	ingress.Name = "api"
	ingress.Spec.TLS = ingress.Spec.TLS[:1]
	ingress.Spec.TLS[0].Hosts = []string{"api.example.com"}
	kept = transformIngressOf(t, ingress)
	if unsafe.StringData(kept.name) != unsafe.StringData(string(kept.refs[0].hosts)) || kept.name != "api" {
		t.Errorf("the name %q is a copy of the host's %q", kept.name, kept.refs[0].hosts)
	}
	// Otherwise the Secret's name, the hosts and the name are one string.
	ingress.Name = "ing-1"
	delete(ingress.Annotations, AuthTLSSecretAnnotation)
	kept = transformIngressOf(t, ingress)
	secret, hosts := kept.refs[0].secret.Name, string(kept.refs[0].hosts)
	if len(kept.refs) != 1 || !follows(secret, hosts) || !follows(hosts, kept.name) || kept.name != "ing-1" {
		t.Errorf("%q, %q and %q are not one string", secret, hosts, kept.name)
	}
}

// follows tells whether b's bytes come right after a's.
func follows(a, b string) bool {
	return unsafe.StringData(b) == (*byte)(unsafe.Add(unsafe.Pointer(unsafe.StringData(a)), len(a)))
}

func transformIngressOf(t *testing.T, ingress *networkingv1.Ingress) *servingObject {
	t.Helper()
	obj, err := transformIngress(ingress)
	if err != nil {
		t.Fatal(err)
	}
	return obj.(*servingObject)
}

func TestTransformPod(t *testing.T) {
	controller := true
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "web", Name: "frontend-abc-1",
			OwnerReferences: []metav1.OwnerReference{
				{Kind: "Node", Name: "not-the-controller"},
				{Kind: "ReplicaSet", Name: "frontend-abc", Controller: &controller},
			}},
		Spec: corev1.PodSpec{
			Volumes: []corev1.Volume{
				{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "web-tls"}}},
				{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "web-tls-config"}}}},
				{Name: "all", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
					{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "client-ca"}}},
					{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "web-tls"}}},
					{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
				}}}},
			},
			InitContainers: []corev1.Container{{Name: "fetch", EnvFrom: []corev1.EnvFromSource{
				{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}},
				{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "init-env"}}},
			}}},
			Containers: []corev1.Container{{Name: "web", Env: []corev1.EnvVar{
				{Name: "PASSWORD", Value: "secret"},
				{Name: "CONFIG", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "a"}}},
				{Name: "CERT", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "env-cert"}, Key: "tls.crt"}}},
				{Name: "AGAIN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "web-tls"}, Key: "tls.crt"}}},
			}}, {Name: "sidecar", EnvFrom: []corev1.EnvFromSource{
				{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "sidecar-env"}}},
			}}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	obj, _ := transformPod(pod)
	want := &keptPod{compactMeta: newCompactMeta("web", "frontend-abc-1"), ownerKind: "ReplicaSet", ownerName: "frontend-abc",
		mounts: "web-tls/:web-tls-config/client-ca/init-env/env-cert/sidecar-env"}
	if got := obj.(*keptPod); !reflect.DeepEqual(got, want) {
		t.Errorf("kept %+v, want %+v", got, want)
	}
	for _, phase := range []corev1.PodPhase{corev1.PodSucceeded, corev1.PodFailed} {
		pod.Status.Phase = phase
		obj, _ := transformPod(pod)
		if got := obj.(*keptPod); got.mounts != "" {
			t.Errorf("a %s Pod keeps Secrets or ConfigMaps %v", phase, got.mounts)
		}
	}
}

func TestOwnerTransform(t *testing.T) {
	controller := true
	obj, _ := ownerTransform("ReplicaSet")(&metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{
		Namespace: "web", Name: "frontend-abc",
		OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "frontend", Controller: &controller}},
	}})
	want := &keptOwner{compactMeta: newCompactMeta("web", "frontend-abc"), kind: "ReplicaSet", controllerKind: "Deployment", controllerName: "frontend"}
	if got := obj.(*keptOwner); !reflect.DeepEqual(got, want) {
		t.Errorf("kept %+v, want %+v", got, want)
	}
}

func unstructuredObject(t *testing.T, apiVersion, kind, namespace, name string, spec map[string]interface{}) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{Object: map[string]interface{}{"apiVersion": apiVersion, "kind": kind, "spec": spec}}
	u.SetNamespace(namespace)
	u.SetName(name)
	u.SetCreationTimestamp(metav1.NewTime(created))
	return u
}

func TestGatewayTransform(t *testing.T) {
	gateway := unstructuredObject(t, "gateway.networking.k8s.io/v1", "Gateway", "infra", "edge", map[string]interface{}{
		"listeners": []interface{}{
			map[string]interface{}{"name": "https", "hostname": "Web.Example.com", "tls": map[string]interface{}{
				"certificateRefs": []interface{}{
					map[string]interface{}{"name": "web-tls", "namespace": "web"},
					map[string]interface{}{"kind": "Secret", "group": "", "name": "edge-tls"},
					map[string]interface{}{"kind": "ConfigMap", "name": "not-a-secret"},
					map[string]interface{}{"group": "example.com", "kind": "Secret", "name": "vault"},
					"garbage",
				}}},
			map[string]interface{}{"name": "wild", "tls": map[string]interface{}{
				"certificateRefs": []interface{}{map[string]interface{}{"name": "edge-tls"}}}},
			map[string]interface{}{"name": "http", "hostname": "plain.example.com"},
			"garbage",
		},
	})
	obj, _ := gatewayTransform(KindGateway)(gateway)
	want := &servingObject{compactMeta: newCompactMeta("infra", "edge"), kind: unique.Make(KindGateway), created: created.Unix(),
		refs: []reference{
			{secret: SecretRef{"web", "web-tls"}, hosts: hostList("web.example.com")},
			{secret: SecretRef{"infra", "edge-tls"}, hosts: hostList("web.example.com")},
		}}
	if got := obj.(*servingObject); !reflect.DeepEqual(got, want) {
		t.Errorf("kept %+v\nwant %+v", got, want)
	}
	// A spec of the wrong shape keeps nothing and breaks nothing.
	broken := unstructuredObject(t, "gateway.networking.k8s.io/v1", "Gateway", "infra", "broken", map[string]interface{}{"listeners": "no"})
	if obj, err := gatewayTransform(KindGateway)(broken); err != nil || obj.(*servingObject).refs != nil {
		t.Errorf("broken Gateway: %+v, %v", obj, err)
	}
}

func TestTransformIstioGateway(t *testing.T) {
	gateway := unstructuredObject(t, "networking.istio.io/v1", "Gateway", "istio-system", "edge", map[string]interface{}{
		"servers": []interface{}{
			map[string]interface{}{"hosts": []interface{}{"web/web.example.com", "*", "API.example.com"},
				"tls": map[string]interface{}{"mode": "SIMPLE", "credentialName": "web-tls"}},
			map[string]interface{}{"hosts": []interface{}{"*"}, "tls": map[string]interface{}{"credentialName": "kubernetes://any-tls"}},
			map[string]interface{}{"hosts": []interface{}{"x.example.com"}, "tls": map[string]interface{}{"mode": "PASSTHROUGH"}},
		},
	})
	obj, _ := transformIstioGateway(gateway)
	want := &servingObject{compactMeta: newCompactMeta("istio-system", "edge"), kind: unique.Make(KindIstioGateway), created: created.Unix(),
		refs: []reference{
			{secret: SecretRef{"istio-system", "web-tls"}, hosts: hostList("web.example.com", "api.example.com")},
			{secret: SecretRef{"istio-system", "any-tls"}},
		}}
	if got := obj.(*servingObject); !reflect.DeepEqual(got, want) {
		t.Errorf("kept %+v\nwant %+v", got, want)
	}
}

// hostList is hosts as a reference keeps them.
func hostList(hosts ...string) nameList {
	var l nameList
	for _, host := range hosts {
		l.add(host)
	}
	return l
}

func TestNameList(t *testing.T) {
	var s nameList
	for _, name := range []string{"web-tls", "", "client-ca", "web-tls", "a/b", "client-ca"} {
		s.add(name)
	}
	var got []string
	for name := range s.all() {
		got = append(got, name)
	}
	if want := []string{"web-tls", "client-ca"}; !reflect.DeepEqual(got, want) {
		t.Errorf("names %q, want %q", got, want)
	}
	if !s.contains("client-ca") || s.contains("web") || s.contains("") {
		t.Errorf("contains is wrong for %q", s)
	}
	var empty nameList
	for name := range empty.all() {
		t.Errorf("an empty list yields %q", name)
	}
}
