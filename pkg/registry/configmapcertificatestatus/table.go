package configmapcertificatestatus

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/registry/computed"
)

// columns are every column of `kubectl get cmcst`; Priority 1 ones show
// with -o wide. A ConfigMap is mostly a bundle of CA certificates, so the
// wide view names its keys and counts instead of a leaf's key and DNS names.
var columns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Format: "name", Description: "Name of the ConfigMap."},
	{Name: "State", Type: "string", Description: "Valid, ExpiringSoon, Expired, NotYetValid or Invalid."},
	{Name: "Common Name", Type: "string", Description: "The leaf's (or for a bundle, the first certificate's) common name, or its first DNS name."},
	{Name: "Issuer", Type: "string", Description: "That certificate's issuer common name."},
	{Name: "Expires", Type: "string", Description: "Time until (or since) the earliest notAfter that decides the state."},
	{Name: "Age", Type: "string", Description: "Age of the ConfigMap."},
	{Name: "Keys", Type: "string", Priority: 1, Description: "The ConfigMap keys holding certificates: the first three, then +N."},
	{Name: "Certs", Type: "string", Priority: 1, Description: "Number of certificates, with how many are expired or expiring."},
	{Name: "Not After", Type: "string", Priority: 1, Description: "The earliest notAfter that decides the state (RFC 3339)."},
	{Name: "Used By", Type: "string", Priority: 1, Description: "Who mounts the ConfigMap: the first as Kind/name, then +N."},
}

// Table is the kind's table, its ages and expiries as of now().
func Table(now func() time.Time) computed.Table[object, *object] {
	return computed.Table[object, *object]{Columns: columns, Row: cells, List: lists, Now: now}
}

// cells are one object's cells, in column order.
func cells(o *object, now time.Time) []interface{} {
	status := &o.Status
	commonName, issuer := computed.CommonNameAndIssuer(computed.PrimaryCertificate(status))
	return []interface{}{
		o.Name,
		string(status.State),
		commonName,
		issuer,
		computed.Expires(status.NotAfter, now),
		computed.Age(o.CreationTimestamp, now),
		computed.Strings(status.ConfigMapKeys),
		computed.CertificateCounts(status.Summary),
		computed.NotAfter(status.NotAfter),
		computed.UsedBy(status.UsedBy, o.Namespace),
	}
}
