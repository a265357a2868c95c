package certificatestatus

import (
	"context"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
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

type tableConvertor struct {
	now func() time.Time
}

func (t tableConvertor) ConvertToTable(ctx context.Context, object, tableOptions runtime.Object) (*metav1.Table, error) {
	table := &metav1.Table{}
	if options, ok := tableOptions.(*metav1.TableOptions); !ok || !options.NoHeaders {
		table.ColumnDefinitions = columns
	}
	now := t.now()
	switch o := object.(type) {
	case *certstatus.CertificateStatus:
		table.ResourceVersion = o.ResourceVersion
		table.Rows = []metav1.TableRow{row(o, now)}
	case *certstatus.CertificateStatusList:
		return t.ConvertToTable(ctx, &List{CertificateStatusList: *o}, tableOptions)
	case *List:
		table.ResourceVersion = o.ResourceVersion
		table.Continue = o.Continue
		table.RemainingItemCount = o.RemainingItemCount
		table.Rows = make([]metav1.TableRow, 0, len(o.Items))
		// Rows carry whole objects only when asked to; otherwise the handler
		// cuts them to their metadata, and each status is built for its row
		// only.
		if options, ok := tableOptions.(*metav1.TableOptions); ok && options.IncludeObject == metav1.IncludeObject {
			built := o.Built()
			for i := range built.Items {
				r := row(&built.Items[i], now)
				r.Object = runtime.RawExtension{Object: &built.Items[i]}
				table.Rows = append(table.Rows, r)
			}
			break
		}
		_ = o.Each(func(item *certstatus.CertificateStatus) error {
			r := row(item, now)
			// The list's own item, metadata only: Each reuses the one it passes.
			r.Object = runtime.RawExtension{Object: &o.Items[len(table.Rows)]}
			table.Rows = append(table.Rows, r)
			return nil
		})
	default:
		// Anything else (never expected) still gets a name row rather than a 500.
		m, err := meta.Accessor(object)
		if err != nil {
			return nil, fmt.Errorf("cannot show %T as a table: %w", object, err)
		}
		table.Rows = []metav1.TableRow{{Cells: []interface{}{m.GetName()}, Object: runtime.RawExtension{Object: object}}}
	}
	return table, nil
}

// row builds one table row, its cells in column order. Cells are strings
// and bools only: other types are not JSON-safe in a Table.
func row(object *certstatus.CertificateStatus, now time.Time) metav1.TableRow {
	status := &object.Status
	leaf := primaryCertificate(status)
	var commonName, issuer, key string
	isCA := false
	if leaf != nil {
		commonName = leaf.CommonName
		if commonName == "" && len(leaf.DNSNames) > 0 {
			commonName = leaf.DNSNames[0]
		}
		// The analysis decoded the CN; parsing Issuer back would lose escapes.
		issuer = leaf.IssuerCommonName
		key = keyDescription(leaf)
		isCA = leaf.IsCA
	}
	cells := []interface{}{
		object.Name,
		string(status.State),
		commonName,
		issuer,
		expires(status.NotAfter, now),
		age(object.CreationTimestamp, now),
		dnsNames(leaf),
		notAfter(status.NotAfter),
		key,
		certstatus.KeyPairWord(status.PrivateKey),
		certstatus.ChainWord(status.Chain.Verified),
		isCA,
		certificateCounts(status.Summary),
		status.SecretType,
		usedBy(object),
		certManagerCertificate(status.CertManager),
	}
	return metav1.TableRow{Cells: cells, Object: runtime.RawExtension{Object: object}}
}

// primaryCertificate is the leaf, or for a CA bundle its first certificate.
func primaryCertificate(status *certstatus.CertificateStatusStatus) *certstatus.CertificateInfo {
	for i := range status.Certificates {
		if status.Certificates[i].Role == certstatus.RoleLeaf {
			return &status.Certificates[i]
		}
	}
	if len(status.Certificates) > 0 {
		return &status.Certificates[0]
	}
	return nil
}

// expires is kubectl's duration style: "88d", "5h12m", or "3d ago".
func expires(notAfter *metav1.Time, now time.Time) string {
	if notAfter == nil {
		return "<none>"
	}
	if remaining := notAfter.Sub(now); remaining > 0 {
		return duration.HumanDuration(remaining)
	}
	return duration.HumanDuration(now.Sub(notAfter.Time)) + " ago"
}

func age(created metav1.Time, now time.Time) string {
	if created.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(created.Time))
}

func notAfter(t *metav1.Time) string {
	if t == nil {
		return "<none>"
	}
	return t.UTC().Format(time.RFC3339)
}

func dnsNames(leaf *certstatus.CertificateInfo) string {
	if leaf == nil || len(leaf.DNSNames) == 0 {
		return "<none>"
	}
	if len(leaf.DNSNames) <= 3 {
		return strings.Join(leaf.DNSNames, ",")
	}
	return fmt.Sprintf("%s +%d", strings.Join(leaf.DNSNames[:3], ","), len(leaf.DNSNames)-3)
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

// certificateCounts is "3", or "144 (1 expired, 2 expiring)".
func certificateCounts(s certstatus.CertificateSummary) string {
	var notes []string
	if s.Expired > 0 {
		notes = append(notes, fmt.Sprintf("%d expired", s.Expired))
	}
	if s.ExpiringSoon > 0 {
		notes = append(notes, fmt.Sprintf("%d expiring", s.ExpiringSoon))
	}
	if s.NotYetValid > 0 {
		notes = append(notes, fmt.Sprintf("%d not yet valid", s.NotYetValid))
	}
	if len(notes) == 0 {
		return fmt.Sprint(s.Certificates)
	}
	return fmt.Sprintf("%d (%s)", s.Certificates, strings.Join(notes, ", "))
}

// usedBy is "Ingress/frontend", "Gateway/infra/edge +2", or "<none>".
func usedBy(object *certstatus.CertificateStatus) string {
	users := object.Status.UsedBy
	if len(users) == 0 {
		return "<none>"
	}
	first := users[0].Kind + "/" + users[0].Name
	if users[0].Namespace != object.Namespace {
		first = users[0].Kind + "/" + users[0].Namespace + "/" + users[0].Name
	}
	if len(users) == 1 {
		return first
	}
	return fmt.Sprintf("%s +%d", first, len(users)-1)
}

func certManagerCertificate(reference *certstatus.CertManagerReference) string {
	if reference == nil || reference.Certificate == "" {
		return "<none>"
	}
	return reference.Certificate
}
