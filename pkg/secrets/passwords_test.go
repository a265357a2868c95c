package secrets

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

func passwordSecret(name string, labelled bool, version string) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: name, ResourceVersion: version}, Data: map[string][]byte{"store": []byte("s3cret")}}
	if labelled {
		s.Labels = map[string]string{certstatus.KeystorePasswordLabel: "true"}
	}
	return s
}

// A password Secret is read only with the label; a new version of it
// re-reads the Secrets that named it, a resync does not.
func TestPasswordSecrets(t *testing.T) {
	p := newPasswordSecrets(getterOf(t, passwordSecret("labelled", true, "1"), passwordSecret("plain", false, "1")))
	var mu sync.Mutex
	var reread []string
	done := make(chan struct{}, 4)
	p.reanalyse = func(namespace, name string) {
		mu.Lock()
		reread = append(reread, namespace+"/"+name)
		mu.Unlock()
		done <- struct{}{}
	}
	user := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "java"}}
	lookup := p.lookup(user)
	if value, err := lookup("labelled", "store"); err != nil || string(value) != "s3cret" {
		t.Errorf("labelled: %q, %v", value, err)
	}
	if _, err := lookup("plain", "store"); err == nil || !strings.Contains(err.Error(), "lacks the label") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("unlabelled: %v, want refused without the data", err)
	}
	if _, err := lookup("labelled", "nope"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("missing key: %v", err)
	}
	if _, err := lookup("missing", "store"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing Secret: %v", err)
	}

	p.changed(passwordSecret("labelled", true, "1")) // first sight of this version
	<-waitOrFail(t, done)
	p.changed(passwordSecret("labelled", true, "1")) // a resync: nothing
	p.changed(passwordSecret("labelled", true, "2")) // a change: re-read
	<-waitOrFail(t, done)
	p.changed(passwordSecret("unused", true, "7"))
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(reread, ",") != "team/java,team/java" {
		t.Errorf("re-read %v, want team/java twice", reread)
	}
}

func waitOrFail(t *testing.T, done chan struct{}) chan struct{} {
	t.Helper()
	select {
	case <-done:
		out := make(chan struct{}, 1)
		out <- struct{}{}
		return out
	case <-time.After(5 * time.Second):
		t.Fatal("no re-read")
		return nil
	}
}

// cert-manager's keystore passwords: a passwordSecretRef and a literal, for
// the Certificate's own Secret only; nothing without the Certificate.
func TestPasswordsFromCertManagerCertificate(t *testing.T) {
	certificate := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
		"metadata": map[string]interface{}{"namespace": "team", "name": "web"},
		"spec": map[string]interface{}{
			"secretName": "web-tls",
			"keystores": map[string]interface{}{
				"pkcs12": map[string]interface{}{"create": true, "passwordSecretRef": map[string]interface{}{"name": "web-keystore-password", "key": "password"}},
				"jks":    map[string]interface{}{"create": true, "password": "literal-pass"},
			},
		},
	}}
	p := newPasswordSecrets(getterOf(t, certificate, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "web-keystore-password"}, Data: map[string][]byte{"password": []byte("from-ref")}}))
	read := func(secretName, certificateName string) string {
		values, err := p.fromCertificate(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: secretName}})(certificateName)
		if err != nil {
			t.Fatalf("%s: %v", secretName, err)
		}
		var out []string
		for _, v := range values {
			out = append(out, string(v))
		}
		return strings.Join(out, ",")
	}
	if got := read("web-tls", "web"); got != "from-ref,literal-pass" {
		t.Errorf("the Certificate's Secret gets %q, want the pkcs12 then jks passwords", got)
	}
	if got := read("impostor", "web"); got != "" {
		t.Errorf("a Secret the Certificate does not write gets %q", got)
	}
	if got := read("web-tls", "missing"); got != "" {
		t.Errorf("no Certificate, but %q", got)
	}
	p.mu.RLock()
	remembered := p.users["team/web-keystore-password"]["web-tls"]
	p.mu.RUnlock()
	if !remembered {
		t.Error("a change to the password Secret would not re-read web-tls")
	}
}

// getterOf serves objects by API path, as JSON; others are NotFound.
func getterOf(t *testing.T, objects ...interface{}) objectGetter {
	byPath := map[string][]byte{}
	for _, object := range objects {
		data, err := json.Marshal(object)
		if err != nil {
			t.Fatal(err)
		}
		switch o := object.(type) {
		case *corev1.Secret:
			byPath["/api/v1/namespaces/"+o.Namespace+"/secrets/"+o.Name] = data
		case *unstructured.Unstructured:
			byPath["/apis/cert-manager.io/v1/namespaces/"+o.GetNamespace()+"/certificates/"+o.GetName()] = data
		}
	}
	return func(_ context.Context, path string) ([]byte, error) {
		if data, ok := byPath[path]; ok {
			return data, nil
		}
		return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, path)
	}
}
