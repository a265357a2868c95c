package registrations

import (
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/usedby"
)

// Cluster is what finding serving Secrets reads; the server answers from
// its informers, tests from maps.
type Cluster interface {
	// Secret is a Secret's analysis; ok is false when it does not exist or
	// is not listed.
	Secret(namespace, name string) (analysis *certificate.Analysis, ok bool)
	// SecretsOfCertificate are the names of the namespace's Secrets whose
	// analysis records certificate as cert-manager's Certificate.
	SecretsOfCertificate(namespace, certificate string) []string
	// ServiceSelector is a Service's spec.selector; ok is false when the
	// Service does not exist.
	ServiceSelector(namespace, name string) (selector map[string]string, ok bool)
	// Pods are the namespace's Pods that mount a Secret, whatever their
	// phase.
	Pods(namespace string) []Pod
	// Watched tells whether certstatus watches the namespace's Secrets and
	// Pods (--namespaces): elsewhere nothing can be found.
	Watched(namespace string) bool
}

// Pod is what serving-Secret discovery reads of a Pod.
type Pod struct {
	Name   string
	Phase  corev1.PodPhase
	Labels map[string]string
	// Secrets are the Secrets it mounts, as a volume or a projected source.
	Secrets []string
}

// Why no serving Secret was found: the Trusted condition's reason when it
// is Unknown.
const (
	ReasonURLClientConfig   = "URLClientConfig"
	ReasonServiceNotFound   = "ServiceNotFound"
	ReasonNoPods            = "NoPods"
	ReasonNoServingSecret   = "NoServingSecret"
	ReasonSecretNotFound    = "SecretNotFound"
	ReasonNoServedChain     = "NoServedChain"
	ReasonInvalidAnnotation = "InvalidAnnotation"
	ReasonNotWatched        = "NamespaceNotWatched"
)

// Serving is the outcome of looking for a caBundle's serving Secrets.
type Serving struct {
	// Secrets are the serving Secrets, sorted by namespace and name.
	Secrets []ServingSecret
	// Reason and Message say why Secrets is empty.
	Reason, Message string
}

// ServingSecret is a serving Secret with its served chain, leaf first.
type ServingSecret struct {
	Namespace, Name string
	Chain           []*x509.Certificate
}

func (s ServingSecret) String() string { return s.Namespace + "/" + s.Name }

// FindServing finds the Secrets serving what kube-apiserver calls with
// bundle: cert-manager's inject-ca-from-secret, else the Secrets of the
// Certificate named by inject-ca-from, else the TLS Secrets mounted by the
// Running or Pending Pods the Service selects whose leaf covers
// <service>.<namespace>.svc (a client certificate the Pods also mount
// does not). applies is false when nothing is called with bundle (a
// ClusterTrustBundle): there is no Trusted condition to decide.
func FindServing(r *Registration, bundle CABundle, cluster Cluster) (serving Serving, applies bool) {
	switch {
	case bundle.Service == nil && bundle.URL:
		return unknown(ReasonURLClientConfig, "%s calls a url, not a Service, so no serving Secret can be found.", bundle.Key), true
	case bundle.Service == nil:
		return Serving{}, false
	case r.InjectCAFromSecret != "":
		namespace, name, ok := splitReference(r.InjectCAFromSecret)
		if !ok {
			return unknown(ReasonInvalidAnnotation, "The annotation %s is not <namespace>/<secret>.", InjectCAFromSecretAnnotation), true
		}
		return servingSecrets(cluster, namespace, []string{name}, fmt.Sprintf("the Secret %s/%s named by %s", namespace, name, InjectCAFromSecretAnnotation)), true
	case r.InjectCAFrom != "":
		namespace, name, ok := splitReference(r.InjectCAFrom)
		if !ok {
			return unknown(ReasonInvalidAnnotation, "The annotation %s is not <namespace>/<certificate>.", InjectCAFromAnnotation), true
		}
		return servingSecrets(cluster, namespace, cluster.SecretsOfCertificate(namespace, name), fmt.Sprintf("a Secret of the Certificate %s/%s named by %s", namespace, name, InjectCAFromAnnotation)), true
	}
	return servingByPods(cluster, *bundle.Service), true
}

// notWatched is the outcome in a namespace certstatus does not watch.
func notWatched(namespace string) Serving {
	return unknown(ReasonNotWatched, "certstatus does not watch the namespace %s (--namespaces), so its Secrets and Pods are not read.", namespace)
}

// servingSecrets are the named Secrets that have a served chain.
func servingSecrets(cluster Cluster, namespace string, names []string, what string) Serving {
	if !cluster.Watched(namespace) {
		return notWatched(namespace)
	}
	var out Serving
	found := false
	for _, name := range names {
		analysis, ok := cluster.Secret(namespace, name)
		if !ok {
			continue
		}
		found = true
		if chain := analysis.ServedChain(); chain != nil {
			out.Secrets = append(out.Secrets, ServingSecret{Namespace: namespace, Name: name, Chain: chain})
		}
	}
	switch {
	case !found:
		return unknown(ReasonSecretNotFound, "There is no %s.", what)
	case len(out.Secrets) == 0:
		return unknown(ReasonNoServedChain, "The leaf of %s names no Service host (<service>.<namespace>.svc), so it cannot serve the registration.", what)
	}
	sortSecrets(out.Secrets)
	return out
}

func servingByPods(cluster Cluster, service ServiceReference) Serving {
	if !cluster.Watched(service.Namespace) {
		return notWatched(service.Namespace)
	}
	selector, ok := cluster.ServiceSelector(service.Namespace, service.Name)
	if !ok {
		return unknown(ReasonServiceNotFound, "The Service %s/%s does not exist.", service.Namespace, service.Name)
	}
	if len(selector) == 0 {
		return unknown(ReasonNoPods, "The Service %s/%s has no selector, so its Pods cannot be found.", service.Namespace, service.Name)
	}
	matches := labels.SelectorFromSet(selector)
	host := service.Host()
	var out Serving
	seen := map[string]bool{}
	pods := 0
	for _, pod := range cluster.Pods(service.Namespace) {
		if pod.Phase != corev1.PodRunning && pod.Phase != corev1.PodPending || !matches.Matches(labels.Set(pod.Labels)) {
			continue
		}
		pods++
		for _, name := range pod.Secrets {
			if seen[name] {
				continue
			}
			seen[name] = true
			analysis, ok := cluster.Secret(service.Namespace, name)
			if !ok {
				continue
			}
			dnsNames, ipAddresses, hasLeaf := analysis.LeafNames()
			if !hasLeaf || !usedby.Covers(dnsNames, ipAddresses, host) {
				continue // not a TLS Secret, or a client certificate
			}
			if chain := analysis.ServedChain(); chain != nil {
				out.Secrets = append(out.Secrets, ServingSecret{Namespace: service.Namespace, Name: name, Chain: chain})
			}
		}
	}
	switch {
	case pods == 0:
		return unknown(ReasonNoPods, "No running or pending Pod is selected by the Service %s/%s.", service.Namespace, service.Name)
	case len(out.Secrets) == 0:
		return unknown(ReasonNoServingSecret, "The Pods the Service %s/%s selects (%d) mount no TLS Secret whose certificate covers %s.", service.Namespace, service.Name, pods, host)
	}
	sortSecrets(out.Secrets)
	return out
}

func unknown(reason, format string, args ...any) Serving {
	return Serving{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// splitReference splits "<namespace>/<name>".
func splitReference(value string) (namespace, name string, ok bool) {
	namespace, name, ok = strings.Cut(value, "/")
	return namespace, name, ok && namespace != "" && name != "" && !strings.Contains(name, "/")
}

func sortSecrets(secrets []ServingSecret) {
	slices.SortFunc(secrets, func(a, b ServingSecret) int { return strings.Compare(a.String(), b.String()) })
}
