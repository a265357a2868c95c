package deploy

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate"
)

// The CRDs the chart's options need, from the modules that publish them.
const (
	certManagerModule  = "github.com/cert-manager/cert-manager"
	certManagerVersion = "v1.21.2"
	// ServiceMonitor and PrometheusRule.
	prometheusOperatorModule  = "github.com/prometheus-operator/prometheus-operator"
	prometheusOperatorVersion = "v0.92.0"
)

func allOptions() string { return filepath.Join(chartDir(), "ci", "all-options-values.yaml") }

func TestChartLint(t *testing.T) {
	out := helm(t, "lint", "--strict", chartDir())
	t.Log(out)
	out = helm(t, "lint", "--strict", chartDir(), "-f", allOptions())
	t.Log(out)
}

func TestChartRejectsUnknownServingCertMode(t *testing.T) {
	out, err := helmCommand(t, "template", "certstatus", chartDir(), "--set", "servingCert.mode=insecure")
	if err == nil || !strings.Contains(out, "servingCert.mode must be selfSigned or certManager") {
		t.Fatalf("helm template with servingCert.mode=insecure: err=%v, want a clear failure:\n%s", err, out)
	}
}

// Every rendering must be accepted by a real kube-apiserver: a server-side
// dry run validates each object against the API's schemas, CRDs included.
func TestChartRenderingsAcceptedByKubeAPIServer(t *testing.T) {
	installCRDs(t, filepath.Join(moduleDir(t, certManagerModule, certManagerVersion), "deploy", "crds"),
		"cert-manager.io_certificates.yaml", "cert-manager.io_issuers.yaml", "cert-manager.io_clusterissuers.yaml")
	installCRDs(t, filepath.Join(moduleDir(t, prometheusOperatorModule, prometheusOperatorVersion), "example", "prometheus-operator-crd"),
		"monitoring.coreos.com_servicemonitors.yaml", "monitoring.coreos.com_prometheusrules.yaml")
	ensureNamespaces(t, "certstatus-dry", "team-a", "team-b")

	renderings := map[string]string{
		"defaults":    render(t, "certstatus", "certstatus-dry"),
		"all options": render(t, "certstatus", "certstatus-dry", "-f", allOptions()),
		"certManager with its own Issuer": render(t, "certstatus", "certstatus-dry",
			"--set", "servingCert.mode=certManager"),
	}
	for name, manifest := range renderings {
		t.Run(name, func(t *testing.T) {
			out := kubectl(t, manifest, "apply", "--dry-run=server", "-f", "-")
			for _, want := range []string{"apiservice.apiregistration.k8s.io/v1alpha1.certstatus.dev", "deployment.apps/"} {
				if !strings.Contains(out, want) {
					t.Errorf("dry run output lacks %q:\n%s", want, out)
				}
			}
			t.Log(out)
		})
	}
	out := kubectl(t, renderings["all options"], "apply", "--dry-run=server", "-f", "-")
	for _, want := range []string{"certificate.cert-manager.io/certs-serving-cert", "role.rbac.authorization.k8s.io/certs",
		"servicemonitor.monitoring.coreos.com/certs", "prometheusrule.monitoring.coreos.com/certs",
		"configmap/certs-dashboard", "clusterrolebinding.rbac.authorization.k8s.io/certs-metrics-reader"} {
		if !strings.Contains(out, want) {
			t.Errorf("all options: the dry run lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "issuer.cert-manager.io") || strings.Contains(out, "clusterrole.rbac.authorization.k8s.io/certs created") {
		t.Errorf("all options: want no Issuer of our own (one is named) and no Secret ClusterRole (--namespaces):\n%s", out)
	}
}

// A real install, upgrade and uninstall with helm against kube-apiserver.
// Nothing runs the pods (there is no kubelet); what is checked is what helm
// writes: the serving pair, the caBundle that trusts it, and that both
// survive an upgrade, and that uninstall removes everything.
func TestChartInstallUpgradeUninstall(t *testing.T) {
	const release, namespace = "certstatus", "certstatus"
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(env.stack.RESTConfig())
	apiServices := dyn.Resource(schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"})
	secrets := env.stack.Client().CoreV1().Secrets(namespace)

	helm(t, "install", release, chartDir(), "--namespace", namespace, "--create-namespace")
	t.Cleanup(func() { _, _ = helmCommand(t, "uninstall", release, "--namespace", namespace) })

	secret, err := secrets.Get(ctx, "certstatus-apiserver-serving-cert", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("serving Secret after install: %v", err)
	}
	caBundle := func() []byte {
		t.Helper()
		obj, err := apiServices.Get(ctx, "v1alpha1.certstatus.dev", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("APIService: %v", err)
		}
		if skip, _, _ := unstructured.NestedBool(obj.Object, "spec", "insecureSkipTLSVerify"); skip {
			t.Errorf("APIService sets insecureSkipTLSVerify")
		}
		encoded, _, _ := unstructured.NestedString(obj.Object, "spec", "caBundle")
		bundle, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil || len(bundle) == 0 {
			t.Fatalf("APIService caBundle %q: %v", encoded, err)
		}
		return bundle
	}
	bundle := caBundle()
	if string(bundle) != string(secret.Data["ca.crt"]) {
		t.Fatalf("APIService caBundle is not the serving Secret's ca.crt")
	}
	verifyServing(t, secret.Data["tls.crt"], bundle, "certstatus-apiserver.certstatus.svc")

	// certstatus analyses its own serving Secret like any other: healthy.
	analysis, _ := certificate.Analyze(certificate.InputFromSecret(secret), certificate.DefaultOptions())
	if status := analysis.StatusAt(time.Now()); status.State != certstatus.StateValid || string(status.Chain.Verified) != "True" {
		t.Errorf("the chart's serving Secret analyses as %s, chain %s (%s)", status.State, status.Chain.Verified, status.Chain.Message)
	}

	helm(t, "upgrade", release, chartDir(), "--namespace", namespace, "--set", "replicaCount=3")
	after, err := secrets.Get(ctx, secret.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("serving Secret after upgrade: %v", err)
	}
	if string(after.Data["tls.crt"]) != string(secret.Data["tls.crt"]) || string(after.Data["tls.key"]) != string(secret.Data["tls.key"]) {
		t.Errorf("helm upgrade generated a new serving pair; want the installed one kept (lookup)")
	}
	if string(caBundle()) != string(bundle) {
		t.Errorf("helm upgrade changed the APIService caBundle")
	}
	deployment, err := env.stack.Client().AppsV1().Deployments(namespace).Get(ctx, "certstatus-apiserver", metav1.GetOptions{})
	if err != nil || deployment.Spec.Replicas == nil || *deployment.Spec.Replicas != 3 {
		t.Errorf("Deployment after upgrade: %v, replicas %v; want 3", err, deployment.Spec.Replicas)
	}

	helm(t, "uninstall", release, "--namespace", namespace, "--wait")
	if _, err := apiServices.Get(ctx, "v1alpha1.certstatus.dev", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("APIService after uninstall: %v, want NotFound", err)
	}
	if _, err := secrets.Get(ctx, secret.Name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("serving Secret after uninstall: %v, want NotFound", err)
	}
	for _, name := range []string{"certstatus-apiserver", "certstatus:aggregate-to-view"} {
		if _, err := env.stack.Client().RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("ClusterRole %s after uninstall: %v, want NotFound", name, err)
		}
	}
}

// verifyServing checks that the serving certificate chains to the CA and
// names the Service as the aggregator dials it.
func verifyServing(t *testing.T, certPEM, caPEM []byte, dnsName string) {
	t.Helper()
	block, _ := pem.Decode(certPEM)
	if block == nil {
		t.Fatalf("tls.crt holds no PEM block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("parse tls.crt: %v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatalf("ca.crt holds no certificate")
	}
	if _, err := cert.Verify(x509.VerifyOptions{DNSName: dnsName, Roots: roots}); err != nil {
		t.Errorf("serving certificate does not verify for %s against the caBundle: %v", dnsName, err)
	}
}
