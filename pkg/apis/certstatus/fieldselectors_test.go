package certstatus

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

// TestFieldSets: what a field selector sees of each kind, with a label for
// every field that kind's FieldLabels names and no other.
func TestFieldSets(t *testing.T) {
	meta := metav1.ObjectMeta{Name: "n", Namespace: "ns"}
	status := CertificateStatusStatus{State: StateExpired, SecretType: "kubernetes.io/tls", ConfigMapKeys: []string{"ca.crt"},
		Source: &RegistrationReference{APIVersion: "apiregistration.k8s.io/v1", Kind: "APIService", Name: "v1.x.io"}}
	cases := []struct {
		name   string
		got    fields.Set
		labels []string
		want   fields.Set
	}{
		{"CertificateStatus", FieldSet(&CertificateStatus{ObjectMeta: meta, Status: status}), FieldLabels(),
			fields.Set{"metadata.name": "n", "metadata.namespace": "ns", "status.state": "Expired", "status.secretType": "kubernetes.io/tls"}},
		{"ConfigMapCertificateStatus", ConfigMapFieldSet(&ConfigMapCertificateStatus{ObjectMeta: meta, Status: status}), ConfigMapFieldLabels(),
			fields.Set{"metadata.name": "n", "metadata.namespace": "ns", "status.state": "Expired"}},
		{"ClusterCertificateStatus", ClusterFieldSet(&ClusterCertificateStatus{ObjectMeta: metav1.ObjectMeta{Name: "n"}, Status: status}), ClusterFieldLabels(),
			fields.Set{"metadata.name": "n", "status.state": "Expired", "status.source.kind": "APIService"}},
		{"ClusterCertificateStatus without source", ClusterFieldSet(&ClusterCertificateStatus{ObjectMeta: metav1.ObjectMeta{Name: "n"}}), ClusterFieldLabels(),
			fields.Set{"metadata.name": "n", "status.state": "", "status.source.kind": ""}},
	}
	for _, c := range cases {
		if c.got.String() != c.want.String() {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
		}
		if len(c.labels) != len(c.got) {
			t.Errorf("%s: labels %v, set %v", c.name, c.labels, c.got)
		}
		for _, label := range c.labels {
			if _, ok := c.got[label]; !ok {
				t.Errorf("%s: %s is a label but not in the set", c.name, label)
			}
		}
	}
}
