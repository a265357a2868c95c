// Package demo is the one home of the demo Secrets: the Secrets `make run`
// loads (hack/run), the README shows, `go run ./hack/demo/print` prints and
// the e2e and metrics tests use as a realistic mix.
//
// They are built in code rather than checked in because their certificates'
// dates are relative to now (expiring in 5 days, expired 3 days ago, valid
// in 2 days): checked-in files would drift into other states.
package demo

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

const day = 24 * time.Hour

// PartOfLabel and PartOf mark every demo Secret, for `kubectl get cst -l`.
// The value predates this package's name and is kept so that selectors
// written against `make run` keep working.
const (
	PartOfLabel = "app.kubernetes.io/part-of"
	PartOf      = "certstatus-examples"
)

// Secrets returns the demo Secrets: one per state and failure, with dates
// relative to now so they show the same states whenever they are loaded.
// All carry PartOfLabel=PartOf and a tier=frontend|backend label.
// "no-certificate" is there to show that a Secret without certificates is
// not listed. It panics only if the system's random source fails.
func Secrets(namespace string, now time.Time) []*corev1.Secret {
	now = now.UTC().Truncate(time.Second)
	org := []string{"certstatus examples"}
	root := certtest.Must(certtest.NewCA(certtest.Spec{
		Subject:   pkix.Name{CommonName: "Example Root CA", Organization: org},
		NotBefore: now.Add(-365 * day), NotAfter: now.Add(9 * 365 * day),
	}))
	intermediate := certtest.Must(root.NewIntermediate(certtest.Spec{
		Subject:   pkix.Name{CommonName: "Example Intermediate CA", Organization: org},
		NotBefore: now.Add(-180 * day), NotAfter: now.Add(4 * 365 * day),
	}))
	leaf := func(name string, notBefore, notAfter time.Time, algorithm certtest.KeyAlgorithm) *certtest.Certificate {
		return certtest.Must(intermediate.NewLeaf(certtest.Spec{
			Subject:      pkix.Name{CommonName: name, Organization: org},
			DNSNames:     []string{name, "www." + name},
			NotBefore:    notBefore,
			NotAfter:     notAfter,
			KeyAlgorithm: algorithm,
		}))
	}
	served := func(c *certtest.Certificate) []byte { return certtest.ChainPEM(c, intermediate) }

	valid := leaf("web.example.com", now.Add(-10*day), now.Add(80*day), certtest.RSA)
	expiring := leaf("expiring.example.com", now.Add(-85*day), now.Add(5*day), certtest.ECDSA)
	expired := leaf("expired.example.com", now.Add(-93*day), now.Add(-3*day), certtest.ECDSA)
	future := leaf("future.example.com", now.Add(2*day), now.Add(92*day), certtest.Ed25519)
	mismatched := leaf("mismatch.example.com", now.Add(-10*day), now.Add(80*day), certtest.ECDSA)
	otherKey := certtest.Must(certtest.NewKey(certtest.ECDSA, 0))
	orphan := leaf("orphan.example.com", now.Add(-10*day), now.Add(80*day), certtest.ECDSA)
	mtls := leaf("mtls.example.com", now.Add(-10*day), now.Add(80*day), certtest.ECDSA)
	clientCA := certtest.Must(certtest.NewCA(certtest.Spec{
		Subject:   pkix.Name{CommonName: "Example Client CA", Organization: org},
		NotBefore: now.Add(-365 * day), NotAfter: now.Add(9 * 365 * day),
	}))

	java := leaf("java.example.com", now.Add(-10*day), now.Add(80*day), certtest.ECDSA)
	clusterCA := certtest.Must(certtest.NewCA(certtest.Spec{
		Subject:   pkix.Name{CommonName: "workload-ca"},
		NotBefore: now.Add(-300 * day), NotAfter: now.Add(9 * 365 * day),
	}))
	admin := certtest.Must(clusterCA.NewLeaf(certtest.Spec{
		Subject:   pkix.Name{CommonName: "kubernetes-admin", Organization: []string{"system:masters"}},
		NotBefore: now.Add(-300 * day), NotAfter: now.Add(65 * day),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}))

	bundleRoots := []*certtest.Certificate{root}
	for _, r := range []struct {
		name                string
		notBefore, notAfter time.Time
	}{
		{"Example Second Root CA", now.Add(-2 * 365 * day), now.Add(8 * 365 * day)},
		{"Example Old Root CA", now.Add(-11 * 365 * day), now.Add(-365 * day)},
		{"Example Third Root CA", now.Add(-30 * day), now.Add(20 * 365 * day)},
	} {
		bundleRoots = append(bundleRoots, certtest.Must(certtest.NewCA(certtest.Spec{
			Subject:   pkix.Name{CommonName: r.name, Organization: org},
			NotBefore: r.notBefore, NotAfter: r.notAfter,
		})))
	}

	return []*corev1.Secret{
		tlsSecret(namespace, "valid-chain", "frontend", served(valid), keyPEM(valid.Key), root.PEM()),
		tlsSecret(namespace, "expiring-soon", "frontend", served(expiring), keyPEM(expiring.Key), root.PEM()),
		tlsSecret(namespace, "expired", "backend", served(expired), keyPEM(expired.Key), root.PEM()),
		tlsSecret(namespace, "not-yet-valid", "backend", served(future), keyPEM(future.Key), root.PEM()),
		tlsSecret(namespace, "key-mismatch", "frontend", served(mismatched), keyPEM(otherKey), root.PEM()),
		// The root is served where the intermediate belongs: the leaf's issuer link fails.
		tlsSecret(namespace, "broken-chain", "backend", certtest.ChainPEM(orphan, root), keyPEM(orphan.Key), root.PEM()),
		// The mutual-TLS layout of ingress controllers: ca.crt is the CA that
		// client certificates must chain to, not the server chain's issuer.
		secret(namespace, "mutual-tls", "frontend", corev1.SecretTypeOpaque, map[string][]byte{
			corev1.TLSCertKey:       served(mtls),
			corev1.TLSPrivateKeyKey: keyPEM(mtls.Key),
			"ca.crt":                clientCA.PEM(),
		}),
		tlsSecret(namespace, "garbage", "backend", []byte("this is not a certificate\n"), []byte("nor is this a key\n"), nil),
		secret(namespace, "ca-bundle", "backend", corev1.SecretTypeOpaque, map[string][]byte{"ca-bundle.crt": certtest.ChainPEM(bundleRoots...)}),
		secret(namespace, "no-certificate", "backend", corev1.SecretTypeOpaque, map[string][]byte{"username": []byte("demo"), "password": []byte("not-a-real-password")}),
		// A Java service's keystore, as cert-manager writes it (go-pkcs12,
		// password changeit): its key entry is the primary chain.
		secret(namespace, "java-keystore", "backend", corev1.SecretTypeOpaque, map[string][]byte{
			"keystore.p12": keystore(java, intermediate, "changeit"),
		}),
		// A keystore whose password certstatus is not given: Unknown.
		secret(namespace, "locked-keystore", "backend", corev1.SecretTypeOpaque, map[string][]byte{
			"keystore.p12": keystore(java, intermediate, randomPassword()),
		}),
		// Cluster API's <cluster>-kubeconfig: the admin's client certificate expires first.
		secret(namespace, "workload-kubeconfig", "backend", "cluster.x-k8s.io/secret", map[string][]byte{
			"value": kubeconfig(clusterCA, admin),
		}),
	}
}

// keystore is a PKCS#12 file as cert-manager writes keystore.p12.
func keystore(leaf, issuer *certtest.Certificate, password string) []byte {
	return certtest.Must(pkcs12.Modern.Encode(leaf.Key, leaf.Certificate, []*x509.Certificate{issuer.Certificate}, password))
}

// randomPassword is a password nobody knows.
func randomPassword() string {
	b := make([]byte, 16)
	certtest.Must(rand.Read(b))
	return hex.EncodeToString(b)
}

// kubeconfig is an admin kubeconfig as Cluster API writes it.
func kubeconfig(ca, admin *certtest.Certificate) []byte {
	b64 := base64.StdEncoding.EncodeToString
	return []byte(`apiVersion: v1
kind: Config
clusters:
- name: workload
  cluster:
    server: https://workload.example.com:6443
    certificate-authority-data: ` + b64(ca.PEM()) + `
users:
- name: workload-admin
  user:
    client-certificate-data: ` + b64(admin.PEM()) + `
    client-key-data: ` + b64(keyPEM(admin.Key)) + `
contexts:
- name: workload-admin@workload
  context: {cluster: workload, user: workload-admin}
current-context: workload-admin@workload
`)
}

func tlsSecret(namespace, name, tier string, certPEM, keyPEMBytes, caPEM []byte) *corev1.Secret {
	data := map[string][]byte{corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEMBytes}
	if caPEM != nil {
		data["ca.crt"] = caPEM
	}
	return secret(namespace, name, tier, corev1.SecretTypeTLS, data)
}

func secret(namespace, name, tier string, secretType corev1.SecretType, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      name,
			Namespace: namespace,
			Labels:    map[string]string{PartOfLabel: PartOf, "tier": tier},
		},
		Type: secretType,
		Data: data,
	}
}

// keyPEM uses PKCS#8, as cert-manager and kubectl create secret tls do.
func keyPEM(key crypto.Signer) []byte {
	return certtest.Must(certtest.KeyPEM(key, certtest.PKCS8))
}
