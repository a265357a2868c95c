package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/certstatus/certstatus/hack/demo"
	"github.com/certstatus/certstatus/test/stack"
)

// loadDemoSecrets creates namespace and the demo Secrets and ConfigMaps in
// it, so that `kubectl get cst` and `kubectl get cmcst` have something of
// every kind to show.
func loadDemoSecrets(ctx context.Context, st *stack.Stack, namespace string) (int, error) {
	cfg := st.RESTConfig()
	// Some demo Secrets are broken on purpose; kube-apiserver's warnings about
	// their keys are expected noise here.
	cfg.WarningHandler = rest.NoWarnings{}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return 0, fmt.Errorf("client: %w", err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	if _, err := client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return 0, fmt.Errorf("create namespace %s: %w", namespace, err)
	}
	secrets := demo.Secrets(namespace, time.Now())
	for _, secret := range secrets {
		if secret.Name == "valid-chain" {
			secret.Annotations = certManagerDemo
		}
		if _, err := client.CoreV1().Secrets(namespace).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
			return 0, fmt.Errorf("create demo Secret %s/%s: %w", namespace, secret.Name, err)
		}
	}
	for _, cm := range demo.ConfigMaps(namespace, time.Now()) {
		if _, err := client.CoreV1().ConfigMaps(namespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			return 0, fmt.Errorf("create demo ConfigMap %s/%s: %w", namespace, cm.Name, err)
		}
	}
	if err := loadDemoUsers(ctx, client, namespace); err != nil {
		return 0, err
	}
	if err := loadDemoWebhook(ctx, client, namespace); err != nil {
		return 0, err
	}
	return len(secrets), nil
}
