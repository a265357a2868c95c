package clustercertificatestatus

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/registry/computed"
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

// Table is the kind's table; now is the clock EXPIRES and AGE are read at.
func Table(now func() time.Time) computed.Table[object, *object] {
	return computed.Table[object, *object]{Columns: columns, Row: cells, List: lists, Now: now}
}

// cells are one object's cells, in column order (JSON-safe types only).
func cells(o *object, now time.Time) []interface{} {
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
		commonName, issuer = computed.CommonNameAndIssuer(&status.Certificates[0])
	}
	return []interface{}{
		o.Name,
		kind,
		string(status.State),
		trusted,
		computed.Expires(status.NotAfter, now),
		computed.Age(o.CreationTimestamp, now),
		commonName,
		issuer,
		computed.NotAfter(status.NotAfter),
		int64(status.Summary.Certificates),
		reason,
		registration,
	}
}
