// Package certificate analyses the X.509 certificates and private keys held
// in a Secret. It is pure: bytes and a clock in, a CertificateStatusStatus
// out. Analyze parses a Secret once; the returned Analysis answers StatusAt
// and NextTransition for any instant without parsing again, and keeps no
// Secret data and no key bytes.
package certificate
