// Package certtest builds X.509 certificates and keys in code, for tests,
// benchmarks and demos: no key files are checked in anywhere. It is not for
// production certificates.
package certtest
