// Package registrationsource is the source adapter of clustercertificatestatuses:
// informers on the API registrations (APIService, Validating- and
// MutatingWebhookConfiguration, CustomResourceDefinition, and
// ClusterTrustBundle while the API serves it), each registration analysed
// into the registrations' cache, and the Trusted condition as that cache's
// decorator.
//
// The registrations are listed and watched by one REST client whose codec
// is registrations.Codec (listwatch.go): JSON, as apiextensions serves
// nothing else, decoded into registrations.Object, so that a CRD's schema
// (often hundreds of KiB) is scanned and never built. Watch streams are
// read by eventDecoder in one pass per event (client-go's watch decoder
// decodes each object twice and copies it once); the reflector reads
// resourceVersions, bookmarks and 410 Status events from them as from a
// typed client's.
//
// Dependencies go one way: Trusted reads the Secret cache (served chains,
// cert-manager's Certificate names), a Service informer of its own and
// Pods; nothing here is read by the Secret pipeline, which learns of
// registrations only through usedby.Index.PutRegistration (the serving
// Secrets' usedBy).
//
// Pods come from usedBy's Pod watch, the only one certstatus holds: Pods
// is its usedby.PodListener and records only the Pods that are not
// finished and mount a Secret (labels, phase, Secret names), in the
// namespaces --namespaces watches. It only records and signals; Trust.run
// rebuilds. With usedBy's Pod kind off the watch runs for it alone.
//
// Registrations are few (tens, rarely hundreds), so a change of any Secret,
// Service or Pod that could matter signals every registration key to
// rebuild; a rebuild that changes nothing visible is no event.
package registrationsource
