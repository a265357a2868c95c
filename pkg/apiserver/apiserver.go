// Package apiserver wires the generic Kubernetes API server: it installs the
// certstatus.dev group with its one read-only resource, starts the Secret
// source and the clock, and reports readiness only once Secrets are synced.
package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/apiserver/pkg/server/healthz"
	"k8s.io/utils/clock"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/metrics"
	"github.com/certstatus/certstatus/pkg/registry/certificatestatus"
	"github.com/certstatus/certstatus/pkg/secrets"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// Config is everything the server needs.
type Config struct {
	Generic *genericapiserver.RecommendedConfig
	// Analysis options: the expiring-soon threshold and fraction.
	Analysis certificate.Options
	// Namespaces limits the watched Secrets; empty means all namespaces.
	Namespaces []string
	Cache      statuscache.Options
	// X509ExporterMetrics adds the x509-certificate-exporter compatible series to /metrics.
	X509ExporterMetrics bool
}

// Server is a prepared certstatus API server.
type Server struct {
	generic *genericapiserver.GenericAPIServer
}

// New builds the server: the group, the storage, the Secret source and the hooks that start them.
func New(config *Config) (*Server, error) {
	cache := statuscache.New(clock.RealClock{}, config.Cache)
	certificates := metrics.NewCertificates(cache, clock.RealClock{}, config.X509ExporterMetrics)
	config.Generic.BuildHandlerChainFunc = func(handler http.Handler, c *genericapiserver.Config) http.Handler {
		// Inside authentication and authorization: /metrics stays behind
		// delegated authorization, as the generic server's own metrics are.
		return genericapiserver.DefaultBuildHandlerChain(metrics.WithCertificates(readOnly(handler), certificates), c)
	}
	generic, err := config.Generic.Complete().New("certstatus-apiserver", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, err
	}

	source, err := secrets.NewSource(config.Generic.ClientConfig, config.Namespaces, config.Analysis, cache)
	if err != nil {
		return nil, err
	}
	if err := metrics.RegisterHealth(cache, metrics.Informer{Resource: "secrets", HasSynced: source.HasSynced}); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}

	group := genericapiserver.NewDefaultAPIGroupInfo(certstatus.GroupName, Scheme, metav1.ParameterCodec, Codecs)
	group.NegotiatedSerializer = withoutProtobuf{group.NegotiatedSerializer}
	group.VersionedResourcesStorageMap[v1alpha1.SchemeGroupVersion.Version] = map[string]rest.Storage{
		"certificatestatuses": certificatestatus.NewREST(cache),
	}
	if err := generic.InstallAPIGroup(&group); err != nil {
		return nil, err
	}

	if err := generic.AddReadyzChecks(healthz.NamedCheck("certstatus-secrets-synced", func(*http.Request) error {
		if !cache.HasSynced() {
			return errors.New("the Secret cache has not synced yet")
		}
		return nil
	})); err != nil {
		return nil, err
	}
	generic.AddPostStartHookOrDie("certstatus-start-secret-source", func(ctx genericapiserver.PostStartHookContext) error {
		go source.Run(ctx)
		go cache.Run(ctx)
		return nil
	})
	return &Server{generic: generic}, nil
}

// Run serves until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	return s.generic.PrepareRun().RunWithContext(ctx)
}
