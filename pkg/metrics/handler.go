package metrics

import (
	"bufio"
	"net/http"

	"github.com/prometheus/common/expfmt"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/klog/v2"
)

// Path is where the metrics are served, behind delegated authorization.
const Path = "/metrics"

// WithCertificates wraps the API server's handler (inside its
// authentication and authorization filters) so that GET /metrics serves the
// legacy registry's families (the generic API server's and certstatus's
// health) followed by the certificate series, in the text format. Other
// requests, including DELETE /metrics (the generic server's reset), pass
// through.
func WithCertificates(handler http.Handler, certificates *Certificates) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != Path || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			handler.ServeHTTP(w, r)
			return
		}
		families, err := legacyregistry.DefaultGatherer.Gather()
		if err != nil {
			// As promhttp's ContinueOnError: serve what was gathered.
			klog.ErrorS(err, "Gathering some metrics failed")
		}
		format := expfmt.NewFormat(expfmt.TypeTextPlain)
		w.Header().Set("Content-Type", string(format))
		if r.Method == http.MethodHead {
			return
		}
		out := bufio.NewWriterSize(w, 32<<10)
		encoder := expfmt.NewEncoder(out, format)
		for _, family := range families {
			if err := encoder.Encode(family); err != nil {
				klog.ErrorS(err, "Writing metrics failed")
				return
			}
		}
		if err := out.Flush(); err != nil {
			return
		}
		if err := certificates.Write(w); err != nil {
			klog.V(2).InfoS("Writing certificate metrics failed", "err", err)
		}
	})
}
