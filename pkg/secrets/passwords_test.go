package secrets

import (
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

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
	client := fake.NewClientset(passwordSecret("labelled", true, "1"), passwordSecret("plain", false, "1"))
	p := newPasswordSecrets(client)
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
