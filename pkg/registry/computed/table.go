package computed

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
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// Table is a kind's `kubectl get` table: its columns (Priority 1 ones show
// with -o wide) and the cells of one object, in column order. Cells are
// strings and bools only: other types are not JSON-safe in a Table.
type Table[T any, P statuscache.Object[T]] struct {
	Columns []metav1.TableColumnDefinition
	Row     func(object P, now time.Time) []interface{}
	List    ListDescriptor[T, P]
	Now     func() time.Time
}

func (t Table[T, P]) ConvertToTable(ctx context.Context, object, tableOptions runtime.Object) (*metav1.Table, error) {
	table := &metav1.Table{}
	if options, ok := tableOptions.(*metav1.TableOptions); !ok || !options.NoHeaders {
		table.ColumnDefinitions = t.Columns
	}
	now := t.Now()
	switch o := object.(type) {
	case P:
		table.ResourceVersion = o.GetResourceVersion()
		table.Rows = []metav1.TableRow{t.row(o, now)}
	case *List[T, P]:
		table.ResourceVersion = o.ResourceVersion
		table.Continue = o.Continue
		table.RemainingItemCount = o.RemainingItemCount
		table.Rows = make([]metav1.TableRow, 0, len(o.Items))
		// Rows carry whole objects only when asked to; otherwise the handler
		// cuts them to their metadata, and each status is built for its row
		// only.
		if options, ok := tableOptions.(*metav1.TableOptions); ok && options.IncludeObject == metav1.IncludeObject {
			built := o.BuiltItems()
			for i := range built {
				table.Rows = append(table.Rows, t.row(&built[i], now))
			}
			break
		}
		_ = o.Each(func(item P) error {
			r := t.row(item, now)
			// The list's own item, metadata only: Each reuses the one it passes.
			r.Object = runtime.RawExtension{Object: P(&o.Items[len(table.Rows)])}
			table.Rows = append(table.Rows, r)
			return nil
		})
	default:
		if items, err := meta.ExtractList(object); err == nil {
			// The kind's registered list, statuses built.
			list := t.List.Of(metav1.ListMeta{}, nil)
			if m, err := meta.ListAccessor(object); err == nil {
				list.ResourceVersion, list.Continue, list.RemainingItemCount = m.GetResourceVersion(), m.GetContinue(), m.GetRemainingItemCount()
			}
			for _, item := range items {
				if p, ok := item.(P); ok {
					list.Items = append(list.Items, *p)
				}
			}
			return t.ConvertToTable(ctx, list, tableOptions)
		}
		// Anything else (never expected) still gets a name row rather than a 500.
		m, err := meta.Accessor(object)
		if err != nil {
			return nil, fmt.Errorf("cannot show %T as a table: %w", object, err)
		}
		table.Rows = []metav1.TableRow{{Cells: []interface{}{m.GetName()}, Object: runtime.RawExtension{Object: object}}}
	}
	return table, nil
}

func (t Table[T, P]) row(object P, now time.Time) metav1.TableRow {
	return metav1.TableRow{Cells: t.Row(object, now), Object: runtime.RawExtension{Object: object}}
}

// The cells every kind's table shares.

// PrimaryCertificate is the leaf, or for a CA bundle its first certificate.
func PrimaryCertificate(status *certstatus.CertificateStatusStatus) *certstatus.CertificateInfo {
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

// CommonNameAndIssuer are the COMMON NAME (the CN, or the first DNS name)
// and ISSUER (the issuer CN the analysis decoded: parsing Issuer back would
// lose escapes) cells of a certificate (nil: empty).
func CommonNameAndIssuer(c *certstatus.CertificateInfo) (string, string) {
	if c == nil {
		return "", ""
	}
	commonName := c.CommonName
	if commonName == "" && len(c.DNSNames) > 0 {
		commonName = c.DNSNames[0]
	}
	return commonName, c.IssuerCommonName
}

// Expires is kubectl's duration style: "88d", "5h12m", or "3d ago".
func Expires(notAfter *metav1.Time, now time.Time) string {
	if notAfter == nil {
		return "<none>"
	}
	if remaining := notAfter.Sub(now); remaining > 0 {
		return duration.HumanDuration(remaining)
	}
	return duration.HumanDuration(now.Sub(notAfter.Time)) + " ago"
}

// Age is the source object's age.
func Age(created metav1.Time, now time.Time) string {
	if created.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(created.Time))
}

// NotAfter is an instant in RFC 3339.
func NotAfter(t *metav1.Time) string {
	if t == nil {
		return "<none>"
	}
	return t.UTC().Format(time.RFC3339)
}

// CertificateCounts is "3", or "144 (1 expired, 2 expiring)".
func CertificateCounts(s certstatus.CertificateSummary) string {
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

// UsedBy is "Ingress/frontend", "Gateway/infra/edge +2", or "<none>"; a
// user in another namespace than the object's is named with its namespace.
func UsedBy(users []certstatus.UsedBy, namespace string) string {
	if len(users) == 0 {
		return "<none>"
	}
	first := users[0].Kind + "/" + users[0].Name
	if users[0].Namespace != namespace {
		first = users[0].Kind + "/" + users[0].Namespace + "/" + users[0].Name
	}
	if len(users) == 1 {
		return first
	}
	return fmt.Sprintf("%s +%d", first, len(users)-1)
}

// Strings is a list cell: the first three, then +N; "<none>" when empty.
func Strings(values []string) string {
	if len(values) == 0 {
		return "<none>"
	}
	if len(values) <= 3 {
		return strings.Join(values, ",")
	}
	return fmt.Sprintf("%s +%d", strings.Join(values[:3], ","), len(values)-3)
}
