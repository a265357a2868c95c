package clustercertificatestatus

import (
	"context"
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

func TestTableRows(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	notAfter := metav1.NewTime(now.Add(30 * 24 * time.Hour))
	hook := object{
		ObjectMeta: metav1.ObjectMeta{Name: "validatingwebhookconfiguration.hooks", CreationTimestamp: metav1.NewTime(now.Add(-2 * time.Hour))},
		Status: certstatus.CertificateStatusStatus{
			Source:       &certstatus.RegistrationReference{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingWebhookConfiguration", Name: "hooks"},
			State:        certstatus.StateInvalid,
			NotAfter:     &notAfter,
			Summary:      certstatus.CertificateSummary{Certificates: 2},
			Certificates: []certstatus.CertificateInfo{{CommonName: "Hook CA", IssuerCommonName: "Hook CA"}, {CommonName: "Other"}},
			Conditions:   []metav1.Condition{{Type: certstatus.ConditionTrusted, Status: metav1.ConditionFalse, Reason: certstatus.ReasonCABundleMismatch}},
		},
	}
	bundle := object{ObjectMeta: metav1.ObjectMeta{Name: "clustertrustbundle.roots"}}
	table, err := Table(func() time.Time { return now }).ConvertToTable(context.Background(),
		NewList(&certstatus.ClusterCertificateStatusList{Items: []object{hook, bundle}}), &metav1.TableOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(table.ColumnDefinitions) != len(columns) || len(table.Rows) != 2 {
		t.Fatalf("%d columns, %d rows", len(table.ColumnDefinitions), len(table.Rows))
	}
	want := []interface{}{"validatingwebhookconfiguration.hooks", "ValidatingWebhookConfiguration", "Invalid", "False", "30d", "120m",
		"Hook CA", "Hook CA", "2027-01-06T12:00:00Z", int64(2), "CABundleMismatch", "hooks"}
	if !reflect.DeepEqual(table.Rows[0].Cells, want) {
		t.Fatalf("row\n%#v\nwant\n%#v", table.Rows[0].Cells, want)
	}
	// No source, no certificates, no Trusted (a ClusterTrustBundle has none): no panic, <none>.
	if cells := table.Rows[1].Cells; cells[3] != "<none>" || cells[6] != "<none>" || cells[4] != "<none>" {
		t.Fatalf("empty row %#v", cells)
	}
	if table.Rows[0].Object.Object == nil {
		t.Fatal("a row without its object")
	}
	// A bookmark's object is shown as a name row rather than failing.
	if _, err := Table(time.Now).ConvertToTable(context.Background(), &certstatus.ClusterCertificateStatus{}, &metav1.TableOptions{NoHeaders: true}); err != nil {
		t.Fatal(err)
	}
}
