package secrets

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
)

// Password reads never put the password in the log, even at -v=10, where
// client-go logs the response bodies of ordinary requests: the control
// read below (Do) does, which proves the log is being captured.
func TestPasswordReadsAreNotLoggedAtAnyVerbosity(t *testing.T) {
	const password = "pw-never-logged-4f1c"
	body := `{"apiVersion":"v1","kind":"Secret","metadata":{"namespace":"team","name":"pw","labels":{"certstatus.dev/keystore-password":"true"}},"data":{"store":"` +
		"cHctbmV2ZXItbG9nZ2VkLTRmMWM=" + `"},"stringData":{"echo":"` + password + `"}}`
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}))
	defer server.Close()
	client, err := kubernetes.NewForConfig(&rest.Config{Host: server.URL})
	if err != nil {
		t.Fatal(err)
	}

	var logged bytes.Buffer
	flags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(flags)
	_ = flags.Set("v", "10")
	_ = flags.Set("logtostderr", "false")
	_ = flags.Set("alsologtostderr", "false")
	klog.SetOutput(&logged)
	defer func() {
		_ = flags.Set("v", "0")
		_ = flags.Set("logtostderr", "true")
		klog.SetOutput(nil)
	}()

	p := newPasswordSecrets(quietGetter(client.CoreV1().RESTClient()))
	secret, err := p.getSecret(context.Background(), "team", "pw")
	if err != nil || string(secret.Data["store"]) != password {
		t.Fatalf("read %v, %v", secret, err)
	}
	klog.Flush()
	if strings.Contains(logged.String(), password) || strings.Contains(logged.String(), "cHctbmV2ZXItbG9nZ2VkLTRmMWM=") {
		t.Fatalf("the password read is logged:\n%s", logged.String())
	}
	_ = client.CoreV1().RESTClient().Get().AbsPath("/api/v1/namespaces/team/secrets/pw").Do(context.Background())
	klog.Flush()
	if !strings.Contains(logged.String(), password) {
		t.Fatalf("the control read's body is not in the log either, so this test proves nothing:\n%s", logged.String())
	}
}
