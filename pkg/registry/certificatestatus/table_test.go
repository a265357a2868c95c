package certificatestatus

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/pkg/registry/computed"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func timeAt(d time.Duration) *metav1.Time { t := metav1.NewTime(now.Add(d)); return &t }

func TestTableRowHasEveryColumnInOrder(t *testing.T) {
	object := &certstatus.CertificateStatus{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "a", CreationTimestamp: metav1.NewTime(now.Add(-49 * time.Hour))},
		Status: certstatus.CertificateStatusStatus{
			SecretType: "kubernetes.io/tls",
			State:      certstatus.StateExpiringSoon,
			NotAfter:   timeAt(88*24*time.Hour + time.Minute),
			Summary:    certstatus.CertificateSummary{Certificates: 3, Valid: 2, ExpiringSoon: 1},
			PrivateKey: &certstatus.PrivateKeyStatus{Present: true, Type: "ECDSA", MatchesCertificate: true},
			Chain:      certstatus.ChainStatus{Verified: certstatus.ChainVerified},
			Certificates: []certstatus.CertificateInfo{{
				Role: certstatus.RoleLeaf, CommonName: "web.example.com",
				Issuer:             `CN=Example\, Intermediate+O=Ex,O=Example`,
				IssuerCommonName:   "Example, Intermediate",
				DNSNames:           []string{"a.example.com", "b.example.com", "c.example.com", "d.example.com", "e.example.com"},
				PublicKeyAlgorithm: "ECDSA", PublicKeySize: 256,
			}},
		},
	}
	table, err := tableConvertor{now: func() time.Time { return now }}.ConvertToTable(context.Background(), object, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(table.ColumnDefinitions) != 16 {
		t.Fatalf("%d columns, want 16", len(table.ColumnDefinitions))
	}
	want := []interface{}{"web", "ExpiringSoon", "web.example.com", "Example, Intermediate", "88d", "2d1h",
		"a.example.com,b.example.com,c.example.com +2", "2026-08-28T12:01:00Z", "ECDSA-P256", "Match", "Verified",
		false, "3 (1 expiring)", "kubernetes.io/tls", "<none>", "<none>"}
	got := table.Rows[0].Cells
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("column %q = %#v, want %#v", table.ColumnDefinitions[i].Name, got[i], want[i])
		}
	}
	if table.Rows[0].Object.Object != object {
		t.Error("row does not carry its object")
	}
}

func TestTableWithoutHeadersAndForABookmark(t *testing.T) {
	bookmark := &certstatus.CertificateStatus{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "42"}}
	table, err := tableConvertor{now: func() time.Time { return now }}.ConvertToTable(context.Background(), bookmark, &metav1.TableOptions{NoHeaders: true})
	if err != nil {
		t.Fatalf("a bookmark must convert: %v", err)
	}
	if len(table.ColumnDefinitions) != 0 || len(table.Rows) != 1 || table.ResourceVersion != "42" {
		t.Errorf("got %d columns, %d rows, rv %q", len(table.ColumnDefinitions), len(table.Rows), table.ResourceVersion)
	}
}

func TestListTableCarriesTheListResourceVersion(t *testing.T) {
	list := &certstatus.CertificateStatusList{Items: []certstatus.CertificateStatus{{}, {}}}
	list.ResourceVersion, list.Continue = "7", "token"
	table, err := tableConvertor{now: func() time.Time { return now }}.ConvertToTable(context.Background(), list, nil)
	if err != nil {
		t.Fatal(err)
	}
	if table.ResourceVersion != "7" || table.Continue != "token" || len(table.Rows) != 2 {
		t.Errorf("table rv %q continue %q rows %d", table.ResourceVersion, table.Continue, len(table.Rows))
	}
}

func TestExpiresIsInKubectlDurationStyle(t *testing.T) {
	for _, tc := range []struct {
		notAfter *metav1.Time
		want     string
	}{
		{timeAt(5*time.Hour + 12*time.Minute), "5h12m"},
		{timeAt(-3 * 24 * time.Hour), "3d ago"},
		{nil, "<none>"},
	} {
		if got := computed.Expires(tc.notAfter, now); got != tc.want {
			t.Errorf("expires(%v) = %q, want %q", tc.notAfter, got, tc.want)
		}
	}
}

func TestCertificateCountsAndKeyDescriptions(t *testing.T) {
	if got := computed.CertificateCounts(certstatus.CertificateSummary{Certificates: 144, Expired: 1, ExpiringSoon: 2}); got != "144 (1 expired, 2 expiring)" {
		t.Errorf("counts = %q", got)
	}
	if got := computed.CertificateCounts(certstatus.CertificateSummary{Certificates: 3, Valid: 3}); got != "3" {
		t.Errorf("counts = %q", got)
	}
	for _, tc := range []struct {
		algorithm string
		size      int32
		want      string
	}{{"RSA", 2048, "RSA-2048"}, {"ECDSA", 384, "ECDSA-P384"}, {"Ed25519", 256, "Ed25519"}} {
		if got := keyDescription(&certstatus.CertificateInfo{PublicKeyAlgorithm: tc.algorithm, PublicKeySize: tc.size}); got != tc.want {
			t.Errorf("key %s/%d = %q, want %q", tc.algorithm, tc.size, got, tc.want)
		}
	}
}

// The ISSUER column is the CN the analysis decoded, so an escape the
// RFC 2253 form needs (\0A for a newline, "\," for a comma) is undone.
func TestIssuerColumnIsTheDecodedCommonName(t *testing.T) {
	for _, issuerCN := range []string{"Example CA", "Line\nBreak, Inc.", `back\slash+plus`} {
		ca := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: issuerCN, KeyAlgorithm: certtest.ECDSA}))
		leaf := certtest.Must(ca.NewLeaf(certtest.Spec{CommonName: "web.example.com", KeyAlgorithm: certtest.ECDSA}))
		analysis, _ := certificate.Analyze(certificate.Input{Type: "kubernetes.io/tls",
			Data: map[string][]byte{"tls.crt": leaf.PEM()}}, certificate.DefaultOptions())
		object := &certstatus.CertificateStatus{Status: analysis.StatusAt(time.Now())}
		if got := row(object, time.Now()).Cells[3]; got != issuerCN {
			t.Errorf("issuer %q (RFC 2253 %q) shows as %q", issuerCN, object.Status.Certificates[0].Issuer, got)
		}
	}
}

func TestUsedByAndCertificateColumns(t *testing.T) {
	object := &certstatus.CertificateStatus{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "a"}}
	cells := func() (string, string) {
		c := row(object, now).Cells
		return c[14].(string), c[15].(string)
	}
	if used, cert := cells(); used != "<none>" || cert != "<none>" {
		t.Errorf("empty: %q %q", used, cert)
	}
	object.Status.UsedBy = []certstatus.UsedBy{{Kind: "Ingress", Namespace: "a", Name: "frontend"}}
	object.Status.CertManager = &certstatus.CertManagerReference{Certificate: "web-cert"}
	if used, cert := cells(); used != "Ingress/frontend" || cert != "web-cert" {
		t.Errorf("one: %q %q", used, cert)
	}
	object.Status.UsedBy = []certstatus.UsedBy{{Kind: "Gateway", Namespace: "infra", Name: "edge"},
		{Kind: "Ingress", Namespace: "a", Name: "frontend"}, {Kind: "Pod", Namespace: "a", Name: "debug"}}
	object.Status.CertManager = &certstatus.CertManagerReference{Issuer: &certstatus.CertManagerIssuer{Name: "ca"}}
	if used, cert := cells(); used != "Gateway/infra/edge +2" || cert != "<none>" {
		t.Errorf("three: %q %q", used, cert)
	}
}
