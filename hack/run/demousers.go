package main

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// certManagerDemo marks valid-chain as managed by cert-manager, so that
// status.certManager and the CERTIFICATE column have something to show.
var certManagerDemo = map[string]string{
	"cert-manager.io/certificate-name": "web",
	"cert-manager.io/issuer-name":      "example-ca",
	"cert-manager.io/issuer-kind":      "ClusterIssuer",
	"cert-manager.io/issuer-group":     "cert-manager.io",
}

// loadDemoUsers creates objects that use the demo Secrets, so that usedBy
// and HostsCovered have something to show: an Ingress serving valid-chain
// for a covered and an uncovered host, and a Deployment whose two Pods
// (made here with the owner references its controllers would write: the
// local stack runs no Deployment controller and no kubelet) mount it.
func loadDemoUsers(ctx context.Context, client kubernetes.Interface, namespace string) error {
	ingress := &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "shop"},
		Spec: networkingv1.IngressSpec{
			TLS:   []networkingv1.IngressTLS{{SecretName: "valid-chain", Hosts: []string{"web.example.com", "shop.example.com"}}},
			Rules: []networkingv1.IngressRule{{Host: "web.example.com"}, {Host: "shop.example.com"}},
		},
	}
	if _, err := client.NetworkingV1().Ingresses(namespace).Create(ctx, ingress, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create demo Ingress: %w", err)
	}
	labels := map[string]string{"app": "web"}
	spec := corev1.PodSpec{
		AutomountServiceAccountToken: ptr.To(false),
		Containers:                   []corev1.Container{{Name: "web", Image: "registry.example.com/web:1"}},
		Volumes: []corev1.Volume{{Name: "tls", VolumeSource: corev1.VolumeSource{
			Secret: &corev1.SecretVolumeSource{SecretName: "valid-chain"}}}},
	}
	template := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec}
	deployment, err := client.AppsV1().Deployments(namespace).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: template},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create demo Deployment: %w", err)
	}
	replicaSet, err := client.AppsV1().ReplicaSets(namespace).Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-5d8f7", OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "apps/v1", Kind: "Deployment", Name: deployment.Name, UID: deployment.UID, Controller: ptr.To(true)}}},
		Spec: appsv1.ReplicaSetSpec{Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: labels}, Template: template},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create demo ReplicaSet: %w", err)
	}
	for _, name := range []string{"web-5d8f7-2xk9q", "web-5d8f7-h7w4m"} {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "ReplicaSet", Name: replicaSet.Name, UID: replicaSet.UID, Controller: ptr.To(true)}}},
			Spec: spec,
		}
		if _, err := client.CoreV1().Pods(namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create demo Pod: %w", err)
		}
	}
	return nil
}
