package v1alpha1

import (
	"k8s.io/apimachinery/pkg/conversion"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// Convert_certstatus_CertificateInfo_To_v1alpha1_CertificateInfo drops the
// internal-only IssuerCommonName: the served object has the issuer in RFC
// 2253 form only (api.md), the table reads the decoded CN internally.
func Convert_certstatus_CertificateInfo_To_v1alpha1_CertificateInfo(in *certstatus.CertificateInfo, out *CertificateInfo, s conversion.Scope) error {
	return autoConvert_certstatus_CertificateInfo_To_v1alpha1_CertificateInfo(in, out, s)
}
