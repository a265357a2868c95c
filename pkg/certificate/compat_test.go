package certificate

import (
	"crypto/sha256"
	"crypto/x509"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// Helpers that older tests call, which the package itself no longer needs.

// describe is one certificate's CertificateInfo without role or state.
func describe(cert *x509.Certificate, key string, index int) certstatus.CertificateInfo {
	var info certstatus.CertificateInfo
	newDescription(cert, sha256.Sum256(cert.Raw)).fill(&info)
	info.Key, info.Index = key, int32(index)
	return info
}

// apiTime is apiInstant as a pointer, as the status's instants are.
func apiTime(t time.Time) *metav1.Time {
	at := apiInstant(t)
	return &at
}
