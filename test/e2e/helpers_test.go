package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

var namespaceCounter atomic.Int64

// newNamespace creates a namespace for one test and deletes it afterwards.
func newNamespace(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("e2e-%s-%d", strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())), namespaceCounter.Add(1))
	if len(name) > 63 {
		name = fmt.Sprintf("e2e-%d-%s", namespaceCounter.Load(), strings.ToLower(t.Name())[:40])
		name = strings.Trim(strings.NewReplacer("/", "-", "_", "-").Replace(name), "-")
	}
	ctx := context.Background()
	if _, err := env.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = env.kube.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	return name
}

// kubectl runs the real kubectl as the admin and fails the test on error.
func kubectl(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, stderr, err := env.stack.Kubectl(ctx, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return out
}

// kubectlFails runs kubectl and returns its stderr, failing the test if it succeeds.
func kubectlFails(t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if kubeconfig == "" {
		kubeconfig = env.stack.AdminKubeconfig()
	}
	out, stderr, err := env.stack.KubectlAs(ctx, kubeconfig, args...)
	if err == nil {
		t.Fatalf("kubectl %s succeeded, want an error; output:\n%s", strings.Join(args, " "), out)
	}
	return stderr
}

// eventually retries check until it returns nil or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, check func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// createSecret creates a Secret and fails the test on error.
func createSecret(t *testing.T, secret *corev1.Secret) *corev1.Secret {
	t.Helper()
	created, err := env.kube.CoreV1().Secrets(secret.Namespace).Create(context.Background(), secret, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create Secret %s/%s: %v", secret.Namespace, secret.Name, err)
	}
	return created
}

// chain is a CA, an intermediate and a leaf with its key, built in code.
type chain struct {
	root, intermediate, leaf *certtest.Certificate
}

func newChain(t *testing.T, commonName string, notBefore, notAfter time.Time) chain {
	t.Helper()
	root := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "E2E Root CA", KeyAlgorithm: certtest.ECDSA}))
	intermediate := certtest.Must(root.NewIntermediate(certtest.Spec{CommonName: "E2E Intermediate CA", KeyAlgorithm: certtest.ECDSA}))
	leaf := certtest.Must(intermediate.NewLeaf(certtest.Spec{
		CommonName: commonName, DNSNames: []string{commonName, "www." + commonName},
		KeyAlgorithm: certtest.ECDSA, NotBefore: notBefore, NotAfter: notAfter,
	}))
	return chain{root: root, intermediate: intermediate, leaf: leaf}
}

// tlsSecret is a kubernetes.io/tls Secret holding the chain, its key and its root.
func (c chain) tlsSecret(namespace, name string, labels map[string]string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels},
		Type:       corev1.SecretTypeTLS,
		Data: map[string][]byte{
			"tls.crt": certtest.ChainPEM(c.leaf, c.intermediate),
			"tls.key": certtest.Must(c.leaf.KeyPEM(certtest.PKCS8)),
			"ca.crt":  c.root.PEM(),
		},
	}
}
