// Package metrics exposes certstatus on /metrics: the certificate series,
// computed from the status cache at each scrape (so nothing goes stale and a
// deleted Secret's series vanish with it), and the server's own health,
// registered in component-base's legacy registry like the generic API
// server's metrics.
//
// The certificate series are written by a streaming writer straight from the
// cache (see docs/design.md, "Metrics", for the measurement that decided it);
// the /metrics handler serves the registry's families followed by them, so
// one scrape job gets everything.
package metrics
