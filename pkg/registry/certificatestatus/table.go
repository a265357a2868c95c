package certificatestatus

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/registry/computed"
)

// columns are every column of `kubectl get cst`; Priority 1 ones show with -o wide.
var columns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: "Name of the Secret."},
	{Name: "State", Type: "string", Description: "Valid, ExpiringSoon, Expired, NotYetValid or Invalid."},
	{Name: "Common Name", Type: "string", Description: "The leaf certificate's common name, or its first DNS name."},
	{Name: "Issuer", Type: "string", Description: "The leaf certificate's issuer common name."},
	{Name: "Expires", Type: "string", Description: "Time until (or since) the primary chain's earliest notAfter."},
	{Name: "Age", Type: "string", Description: "Age of the Secret."},
	{Name: "DNS Names", Type: "string", Priority: 1, Description: "The leaf's DNS names: the first three, then +N."},
	{Name: "Not After", Type: "string", Priority: 1, Description: "The primary chain's earliest notAfter (RFC 3339)."},
	{Name: "Key", Type: "string", Priority: 1, Description: "The leaf's public key: algorithm and size."},
	{Name: "Key Pair", Type: "string", Priority: 1, Description: "Whether the private key matches the leaf: Match, Mismatch or Absent."},
	{Name: "Chain", Type: "string", Priority: 1, Description: "Chain verification: Verified, Broken or Unknown."},
	{Name: "CA", Type: "boolean", Priority: 1, Description: "Whether the leaf is a CA certificate."},
	{Name: "Certs", Type: "string", Priority: 1, Description: "Number of certificates, with how many are expired or expiring."},
	{Name: "Type", Type: "string", Priority: 1, Description: "The Secret's type."},
	{Name: "Used By", Type: "string", Priority: 1, Description: "Who serves or mounts the Secret: the first as Kind/name (Kind/namespace/name from another namespace), then +N."},
	{Name: "Certificate", Type: "string", Priority: 1, Description: "The cert-manager Certificate that manages the Secret."},
}

// tableConvertor is the kind's table.
type tableConvertor struct {
	now func() time.Time
}

func (t tableConvertor) ConvertToTable(ctx context.Context, object, tableOptions runtime.Object) (*metav1.Table, error) {
	return computed.Table[certstatus.CertificateStatus, *certstatus.CertificateStatus]{
		Columns: columns, Row: cells, List: lists, Now: t.now,
	}.ConvertToTable(ctx, object, tableOptions)
}

// row builds one table row (tests).
func row(object *certstatus.CertificateStatus, now time.Time) metav1.TableRow {
	return metav1.TableRow{Cells: cells(object, now), Object: runtime.RawExtension{Object: object}}
}

// cells are one object's cells, in column order.
func cells(object *certstatus.CertificateStatus, now time.Time) []interface{} {
	status := &object.Status
	leaf := computed.PrimaryCertificate(status)
	commonName, issuer := computed.CommonNameAndIssuer(leaf)
	var key string
	isCA := false
	if leaf != nil {
		key = keyDescription(leaf)
		isCA = leaf.IsCA
	}
	return []interface{}{
		object.Name,
		string(status.State),
		commonName,
		issuer,
		computed.Expires(status.NotAfter, now),
		computed.Age(object.CreationTimestamp, now),
		dnsNames(leaf),
		computed.NotAfter(status.NotAfter),
		key,
		certstatus.KeyPairWord(status.PrivateKey),
		certstatus.ChainWord(status.Chain.Verified),
		isCA,
		computed.CertificateCounts(status.Summary),
		status.SecretType,
		computed.UsedBy(status.UsedBy, object.Namespace),
		certManagerCertificate(status.CertManager),
	}
}

func dnsNames(leaf *certstatus.CertificateInfo) string {
	if leaf == nil {
		return "<none>"
	}
	return computed.Strings(leaf.DNSNames)
}

// keyDescription is "RSA-2048", "ECDSA-P256", "Ed25519", "RSA-PSS-2048", "DSA-2048" or "Ed448".
func keyDescription(leaf *certstatus.CertificateInfo) string {
	switch leaf.PublicKeyAlgorithm {
	case "ECDSA":
		return fmt.Sprintf("ECDSA-P%d", leaf.PublicKeySize)
	case "RSA", "RSA-PSS", "DSA":
		if leaf.PublicKeySize == 0 {
			return leaf.PublicKeyAlgorithm
		}
		return fmt.Sprintf("%s-%d", leaf.PublicKeyAlgorithm, leaf.PublicKeySize)
	case "":
		return "<unknown>"
	default:
		return leaf.PublicKeyAlgorithm
	}
}

func certManagerCertificate(reference *certstatus.CertManagerReference) string {
	if reference == nil || reference.Certificate == "" {
		return "<none>"
	}
	return reference.Certificate
}
