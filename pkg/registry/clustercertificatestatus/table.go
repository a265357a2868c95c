package clustercertificatestatus

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// columns are every column of `kubectl get ccst`; Priority 1 ones show with -o wide.
var columns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: "<lowercase kind>.<registration name>."},
	{Name: "Kind", Type: "string", Description: "The registration's kind: APIService, ValidatingWebhookConfiguration, MutatingWebhookConfiguration, CustomResourceDefinition or ClusterTrustBundle."},
	{Name: "State", Type: "string", Description: "Valid, ExpiringSoon, Expired, NotYetValid or Invalid (also when the caBundle does not trust what is served)."},
	{Name: "Trusted", Type: "string", Description: "The Trusted condition: True, False, Unknown, or <none> for a ClusterTrustBundle."},
	{Name: "Expires", Type: "string", Description: "Time until (or since) notAfter: of the trusted path when a serving Secret is found, else of the caBundle."},
	{Name: "Age", Type: "string", Description: "Age of the registration."},
	{Name: "Common Name", Type: "string", Priority: 1, Description: "The caBundle's first certificate's common name."},
	{Name: "Issuer", Type: "string", Priority: 1, Description: "The caBundle's first certificate's issuer common name."},
	{Name: "Not After", Type: "string", Priority: 1, Description: "notAfter (RFC 3339)."},
	{Name: "Certs", Type: "integer", Priority: 1, Description: "Number of certificates in the caBundles."},
	{Name: "Reason", Type: "string", Priority: 1, Description: "The Trusted condition's reason."},
	{Name: "Registration", Type: "string", Priority: 1, Description: "The registration's own name."},
}

type tableConvertor struct {
	now func() time.Time
}

func (t tableConvertor) ConvertToTable(_ context.Context, obj, tableOptions runtime.Object) (*metav1.Table, error) {
	table := &metav1.Table{}
	if options, ok := tableOptions.(*metav1.TableOptions); !ok || !options.NoHeaders {
		table.ColumnDefinitions = columns
	}
	now := t.now()
	switch o := obj.(type) {
	case *object:
		table.ResourceVersion = o.ResourceVersion
		table.Rows = []metav1.TableRow{row(o, now)}
	case *certstatus.ClusterCertificateStatusList:
		table.ResourceVersion = o.ResourceVersion
		table.Continue = o.Continue
		table.RemainingItemCount = o.RemainingItemCount
		table.Rows = make([]metav1.TableRow, len(o.Items))
		for i := range o.Items {
			table.Rows[i] = row(&o.Items[i], now)
		}
	default:
		// A BOOKMARK or anything unexpected still gets a name row rather than a 500.
		m, err := meta.Accessor(obj)
		if err != nil {
			return nil, fmt.Errorf("cannot show %T as a table: %w", obj, err)
		}
		table.Rows = []metav1.TableRow{{Cells: []interface{}{m.GetName()}, Object: runtime.RawExtension{Object: obj}}}
	}
	return table, nil
}

// row builds one table row, its cells in column order (JSON-safe types only).
func row(o *object, now time.Time) metav1.TableRow {
	status := &o.Status
	var kind, registration string
	if status.Source != nil {
		kind, registration = status.Source.Kind, status.Source.Name
	}
	trusted, reason := "<none>", "<none>"
	if c := meta.FindStatusCondition(status.Conditions, certstatus.ConditionTrusted); c != nil {
		trusted, reason = string(c.Status), c.Reason
	}
	commonName, issuer := "<none>", "<none>"
	if len(status.Certificates) > 0 {
		first := &status.Certificates[0]
		commonName, issuer = first.CommonName, first.IssuerCommonName
		if commonName == "" && len(first.DNSNames) > 0 {
			commonName = first.DNSNames[0]
		}
	}
	cells := []interface{}{
		o.Name,
		kind,
		string(status.State),
		trusted,
		expires(status.NotAfter, now),
		age(o.CreationTimestamp, now),
		commonName,
		issuer,
		notAfter(status.NotAfter),
		int64(status.Summary.Certificates),
		reason,
		registration,
	}
	return metav1.TableRow{Cells: cells, Object: runtime.RawExtension{Object: o}}
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
