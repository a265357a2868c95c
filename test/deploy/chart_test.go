package deploy

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
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
		"configmap/certs-dashboard", "clusterrolebinding.rbac.authorization.k8s.io/certs-metrics-reader",
		"networkpolicy.networking.k8s.io/certs", "serviceaccount/certs-scraper", "secret/certs-scraper-token",
		"serviceaccount/certstatus-sa"} {
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

	// Values that do not fit are refused before anything changes: the release
	// stays at its revision, the Deployment as it was.
	revision := func() int {
		t.Helper()
		var status struct{ Version int }
		if err := json.Unmarshal([]byte(helm(t, "status", release, "--namespace", namespace, "-o", "json")), &status); err != nil {
			t.Fatal(err)
		}
		return status.Version
	}
	before := revision()
	for _, bad := range [][]string{
		{"--set", "metrics.prometheusRule.overrides.CertificateExpired.severity=page"},
		{"--set", "metrics.prometheusRule.overrides.NoSuchAlert.enabled=false"},
		{"--set", "replicaCount=1", "--set", "topologySpread.whenUnsatisfiable=Never"},
	} {
		args := append([]string{"upgrade", release, chartDir(), "--namespace", namespace, "--reuse-values",
			"--set", "metrics.prometheusRule.enabled=true"}, bad...)
		if out, err := helmCommand(t, args...); err == nil {
			t.Errorf("helm upgrade %v succeeded; want it refused:\n%s", bad, out)
		}
	}
	if after := revision(); after != before {
		t.Errorf("refused upgrades moved the release from revision %d to %d", before, after)
	}
	deployment, err = env.stack.Client().AppsV1().Deployments(namespace).Get(ctx, "certstatus-apiserver", metav1.GetOptions{})
	if err != nil || *deployment.Spec.Replicas != 3 {
		t.Errorf("Deployment after refused upgrades: %v, replicas %v; want 3", err, deployment.Spec.Replicas)
	}

	helm(t, "uninstall", release, "--namespace", namespace, "--wait")
	if _, err := apiServices.Get(ctx, "v1alpha1.certstatus.dev", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("APIService after uninstall: %v, want NotFound", err)
	}
	for _, name := range []string{secret.Name, "certstatus-apiserver-serving-ca"} {
		if _, err := secrets.Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("Secret %s after uninstall: %v, want NotFound", name, err)
		}
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

// selfSigned renewal with helm itself: the CA Secret is kept, and only the
// serving pair is signed anew (after its Secret is deleted, or once its
// renew-after time has passed), so the APIService's caBundle never changes.
// A lost CA is replaced, and the caBundle trusts the old one too until the
// next upgrade, while the pods may still serve the old pair.
func TestChartSelfSignedRenewsOnlyTheServingPair(t *testing.T) {
	const release, namespace = "certstatus", "certstatus"
	const leafName, caName = "certstatus-apiserver-serving-cert", "certstatus-apiserver-serving-ca"
	ctx := context.Background()
	dyn := dynamic.NewForConfigOrDie(env.stack.RESTConfig())
	secrets := env.stack.Client().CoreV1().Secrets(namespace)
	get := func(name string) map[string][]byte {
		t.Helper()
		s, err := secrets.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("Secret %s: %v", name, err)
		}
		return s.Data
	}
	caBundle := func() string {
		t.Helper()
		obj, err := dyn.Resource(apiServicesResource).Get(ctx, "v1alpha1.certstatus.dev", metav1.GetOptions{})
		if err != nil {
			t.Fatalf("APIService: %v", err)
		}
		encoded, _, _ := unstructured.NestedString(obj.Object, "spec", "caBundle")
		bundle, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			t.Fatal(err)
		}
		return string(bundle)
	}
	upgrade := func() { helm(t, "upgrade", release, chartDir(), "--namespace", namespace) }

	helm(t, "install", release, chartDir(), "--namespace", namespace, "--create-namespace")
	t.Cleanup(func() { _, _ = helmCommand(t, "uninstall", release, "--namespace", namespace, "--wait") })
	ca, leaf, bundle := get(caName), get(leafName), caBundle()
	if bundle != string(ca["tls.crt"]) || string(leaf["ca.crt"]) != bundle {
		t.Fatalf("after install the caBundle, the CA Secret and the serving Secret's ca.crt differ")
	}
	verifyServing(t, leaf["tls.crt"], []byte(bundle), "certstatus-apiserver.certstatus.svc")
	notAfter := certificateOf(t, leaf["tls.crt"]).NotAfter
	if lifetime := time.Until(notAfter); lifetime < 364*24*time.Hour || lifetime > 366*24*time.Hour {
		t.Errorf("the serving certificate is valid for %v; want servingCert.selfSigned.validityDays, 365 days", lifetime)
	}
	if caLife := time.Until(certificateOf(t, ca["tls.crt"]).NotAfter); caLife < 3649*24*time.Hour {
		t.Errorf("the CA is valid for %v; want caValidityDays, 3650 days", caLife)
	}

	upgrade()
	if string(get(leafName)["tls.key"]) != string(leaf["tls.key"]) || string(get(caName)["tls.key"]) != string(ca["tls.key"]) {
		t.Fatalf("a plain upgrade replaced the serving pair or the CA; want both kept")
	}

	renewed := func(why string) map[string][]byte {
		t.Helper()
		upgrade()
		next := get(leafName)
		if string(next["tls.key"]) == string(leaf["tls.key"]) || string(next["tls.crt"]) == string(leaf["tls.crt"]) {
			t.Fatalf("%s: the upgrade kept the serving pair; want a new one", why)
		}
		if string(get(caName)["tls.key"]) != string(ca["tls.key"]) || caBundle() != bundle {
			t.Fatalf("%s: the upgrade changed the CA or the caBundle", why)
		}
		verifyServing(t, next["tls.crt"], []byte(bundle), "certstatus-apiserver.certstatus.svc")
		return next
	}
	// The documented way: delete the serving Secret and upgrade.
	kubectl(t, "", "-n", namespace, "delete", "secret", leafName)
	leaf = renewed("after deleting the serving Secret")
	// Due: an upgrade after renew-after re-signs it by itself.
	kubectl(t, "", "-n", namespace, "annotate", "secret", leafName, "--overwrite", "certstatus.dev/renew-after=2020-01-01T00:00:00Z")
	leaf = renewed("past renew-after")
	renewAfter, err := time.Parse(time.RFC3339, func() string {
		s, _ := secrets.Get(ctx, leafName, metav1.GetOptions{})
		return s.Annotations["certstatus.dev/renew-after"]
	}())
	if err != nil || renewAfter.Before(time.Now().Add(334*24*time.Hour)) || renewAfter.After(time.Now().Add(336*24*time.Hour)) {
		t.Errorf("renew-after %v (%v); want validityDays - renewBeforeDays = 335 days from now", renewAfter, err)
	}

	// A lost CA: a new one, trusted next to the old until the next upgrade.
	kubectl(t, "", "-n", namespace, "delete", "secret", caName)
	upgrade()
	newCA := get(caName)
	if string(newCA["tls.key"]) == string(ca["tls.key"]) {
		t.Fatalf("the CA Secret was deleted, yet the upgrade kept the old CA")
	}
	transition := caBundle()
	if !strings.Contains(transition, string(newCA["tls.crt"])) || !strings.Contains(transition, string(ca["tls.crt"])) {
		t.Errorf("after a new CA the caBundle must trust the new and the old CA:\n%s", transition)
	}
	verifyServing(t, leaf["tls.crt"], []byte(transition), "certstatus-apiserver.certstatus.svc")
	verifyServing(t, get(leafName)["tls.crt"], []byte(transition), "certstatus-apiserver.certstatus.svc")
	upgrade()
	if got := caBundle(); got != string(newCA["tls.crt"]) {
		t.Errorf("the upgrade after the CA change still trusts the old CA:\n%s", got)
	}
}

func certificateOf(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(certPEM)
	if block == nil {
		t.Fatalf("no PEM block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
