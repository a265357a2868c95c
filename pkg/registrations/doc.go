// Package registrations reads API registrations whose caBundle holds
// certificates (APIService, Validating/MutatingWebhookConfiguration,
// CustomResourceDefinition conversion webhooks, ClusterTrustBundle), names
// their ClusterCertificateStatus, finds the Secrets serving them and
// decides the Trusted condition. It is pure: the server's informers feed it.
//
// Vocabulary:
//   - a registration is one such object, as Transform keeps it;
//   - a caBundle is one field holding trusted certificates, keyed by its
//     field path (spec.caBundle, webhooks[<name>].clientConfig.caBundle,
//     spec.conversion.webhook.clientConfig.caBundle, spec.trustBundle);
//   - the serving Secrets of a caBundle are the TLS Secrets whose served
//     chain kube-apiserver meets when it calls the caBundle's service.
//
// Registrations are read through the dynamic client as unstructured
// objects, not typed ones: APIService and CustomResourceDefinition types
// live in k8s.io/kube-aggregator and k8s.io/apiextensions-apiserver, two
// modules with their generated clients for a handful of fields; one
// reader for all five kinds is smaller than five typed ones; and the
// transform keeps only what is listed on Registration, so a CRD's schema
// is dropped before it is stored and a large CRD costs what its caBundle
// does.
package registrations
