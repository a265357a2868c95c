// Package registrationsource is the source adapter of clustercertificatestatuses:
// informers on the API registrations (APIService, Validating- and
// MutatingWebhookConfiguration, CustomResourceDefinition, and
// ClusterTrustBundle while the API serves it), each registration analysed
// into the registrations' cache, and the Trusted condition as that cache's
// decorator.
//
// Dependencies go one way: Trusted reads the Secret cache (served chains,
// cert-manager's Certificate names), Services and Pods; nothing here is
// read by the Secret pipeline, which learns of registrations only through
// usedby.Index.PutRegistration (the serving Secrets' usedBy).
//
// Registrations are few (tens, rarely hundreds), so a change of any Secret,
// Service or Pod that could matter signals every registration key to
// rebuild; a rebuild that changes nothing visible is no event.
package registrationsource
