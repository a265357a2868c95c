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
// Registrations are decoded from the API's JSON into Object (Decode,
// DecodeList, Codec), which lists only the fields FromObject reads:
// encoding/json skips the rest without building it, so a CRD's schema is
// scanned and never allocated. One slim type serves all five kinds; typed
// clients would mean k8s.io/kube-aggregator and
// k8s.io/apiextensions-apiserver, whose CRD type decodes its schema too.
// Transform then keeps only what is listed on Registration.
package registrations
