package main

import (
	"context"
	"fmt"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// demoWebhookName is the demo ValidatingWebhookConfiguration: `kubectl get
// ccst` shows it Trusted=False beside certstatus's own APIService.
const demoWebhookName = "demo-webhook"

// loadDemoWebhook registers a webhook whose caBundle is an old CA while the
// Pod its Service selects mounts a serving Secret issued by a new one: the
// outage Trusted=False (CABundleMismatch) warns of. It cannot break the
// demo cluster: failurePolicy Ignore, sideEffects None, a one-second
// timeout, and rules on a group nothing serves. The Pod stays Pending (the
// local stack runs no kubelet), and Pending Pods count.
func loadDemoWebhook(ctx context.Context, client kubernetes.Interface, namespace string) error {
	oldCA, err := certtest.NewCA(certtest.Spec{CommonName: "Demo Webhook CA 2025", KeyAlgorithm: certtest.ECDSA})
	if err != nil {
		return err
	}
	newCA, err := certtest.NewCA(certtest.Spec{CommonName: "Demo Webhook CA 2026", KeyAlgorithm: certtest.ECDSA})
	if err != nil {
		return err
	}
	host := "webhook." + namespace + ".svc"
	leaf, err := newCA.NewLeaf(certtest.Spec{CommonName: host, DNSNames: []string{host}, KeyAlgorithm: certtest.ECDSA,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(60 * 24 * time.Hour)})
	if err != nil {
		return err
	}
	key, err := leaf.KeyPEM(certtest.PKCS8)
	if err != nil {
		return err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "webhook-tls"},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{"tls.crt": certtest.ChainPEM(leaf), "tls.key": key},
	}
	if _, err := client.CoreV1().Secrets(namespace).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create the demo webhook's Secret: %w", err)
	}
	labels := map[string]string{"app": "webhook"}
	service := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "webhook"},
		Spec:       corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Port: 443}}},
	}
	if _, err := client.CoreV1().Services(namespace).Create(ctx, service, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create the demo webhook's Service: %w", err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "webhook-0", Labels: labels},
		Spec: corev1.PodSpec{
			AutomountServiceAccountToken: ptr.To(false),
			Containers:                   []corev1.Container{{Name: "webhook", Image: "registry.example.com/webhook:1"}},
			Volumes: []corev1.Volume{{Name: "tls", VolumeSource: corev1.VolumeSource{
				Secret: &corev1.SecretVolumeSource{SecretName: secret.Name}}}},
		},
	}
	if _, err := client.CoreV1().Pods(namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create the demo webhook's Pod: %w", err)
	}
	configuration := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: demoWebhookName},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "check.demo.certstatus.dev",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{
				Service:  &admissionregistrationv1.ServiceReference{Namespace: namespace, Name: service.Name, Path: ptr.To("/validate")},
				CABundle: oldCA.PEM(),
			},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule:       admissionregistrationv1.Rule{APIGroups: []string{"demo-unused.certstatus.dev"}, APIVersions: []string{"v1"}, Resources: []string{"things"}},
			}},
			FailurePolicy:           ptr.To(admissionregistrationv1.Ignore),
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			TimeoutSeconds:          ptr.To(int32(1)),
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	if _, err := client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, configuration, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create the demo webhook: %w", err)
	}
	return nil
}
