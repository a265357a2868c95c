package registrations

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/certstatus/certstatus/pkg/certificate"
)

// Kinds of registrations, as status.source.kind and usedBy show them.
const (
	KindAPIService                     = "APIService"
	KindValidatingWebhookConfiguration = "ValidatingWebhookConfiguration"
	KindMutatingWebhookConfiguration   = "MutatingWebhookConfiguration"
	KindCustomResourceDefinition       = "CustomResourceDefinition"
	KindClusterTrustBundle             = "ClusterTrustBundle"
)

// cert-manager's cainjector annotations, which name the serving Secret.
const (
	InjectCAFromSecretAnnotation = "cert-manager.io/inject-ca-from-secret"
	InjectCAFromAnnotation       = "cert-manager.io/inject-ca-from"
)

// Resources are the resources registrations are read from, by kind. The
// ClusterTrustBundle version is the one kube-apiserver v1.37 serves by
// default; the server watches it only while discovery lists it.
var Resources = map[string]schema.GroupVersionResource{
	KindAPIService:                     {Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"},
	KindValidatingWebhookConfiguration: {Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingwebhookconfigurations"},
	KindMutatingWebhookConfiguration:   {Group: "admissionregistration.k8s.io", Version: "v1", Resource: "mutatingwebhookconfigurations"},
	KindCustomResourceDefinition:       {Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"},
	KindClusterTrustBundle:             {Group: "certificates.k8s.io", Version: "v1beta1", Resource: "clustertrustbundles"},
}

// Registration is what is kept of one registration. Its ObjectMeta holds
// the name, uid, labels, creationTimestamp and resourceVersion only (no
// annotations, no managedFields), so that informer stores can key it.
type Registration struct {
	metav1.ObjectMeta
	// APIVersion and Kind are status.source's (with ObjectMeta.Name).
	APIVersion, Kind string
	// InjectCAFromSecret and InjectCAFrom are cert-manager's annotations'
	// values ("<namespace>/<name>"), the only annotations read.
	InjectCAFromSecret, InjectCAFrom string
	// CABundles are the non-empty caBundle fields, in the object's order.
	CABundles []CABundle
}

// CABundle is one caBundle field and whom kube-apiserver calls with it.
type CABundle struct {
	// Key is the field path, status.certificates[].key.
	Key string
	// PEM is the field's value: the analysis input (Input.CABundles) and
	// the bundle Trusted verifies against. Equal values of one object
	// share their bytes.
	PEM []byte
	// Webhook is set for webhook configurations.
	Webhook *Webhook
	// Service is whom kube-apiserver dials; nil for a url client config
	// (URL is then true) and for ClusterTrustBundles, which serve nothing.
	Service *ServiceReference
	URL     bool
}

// Webhook is usedBy's webhooks[] entry.
type Webhook struct {
	Name string
	// FailurePolicy is Fail or Ignore; admissionregistration/v1 defaults to Fail.
	FailurePolicy string
}

// ServiceReference is a client config's service.
type ServiceReference struct {
	Namespace, Name string
}

// Host is the name kube-apiserver dials and the serving leaf must cover.
func (s ServiceReference) Host() string { return s.Name + "." + s.Namespace + ".svc" }

// Transform is the informer transform of every registration resource: it
// replaces the decoded *Object by its *Registration, so that the store
// keeps only what is listed there. Tombstones and objects already
// transformed pass through.
func Transform(obj any) (any, error) {
	switch o := obj.(type) {
	case *Object:
		return FromObject(o)
	case cache.DeletedFinalStateUnknown:
		if u, ok := o.Obj.(*Object); ok {
			r, err := FromObject(u)
			return cache.DeletedFinalStateUnknown{Key: o.Key, Obj: r}, err
		}
	}
	return obj, nil
}

// FromObject keeps what the registration's status needs.
func FromObject(o *Object) (*Registration, error) {
	r := &Registration{
		ObjectMeta: metav1.ObjectMeta{
			Name:              o.Name,
			UID:               o.UID,
			Labels:            o.Labels,
			CreationTimestamp: o.CreationTimestamp,
			ResourceVersion:   o.ResourceVersion,
		},
		APIVersion: o.APIVersion,
		Kind:       o.Kind,
	}
	r.InjectCAFromSecret = strings.TrimSpace(o.Annotations[InjectCAFromSecretAnnotation])
	r.InjectCAFrom = strings.TrimSpace(o.Annotations[InjectCAFromAnnotation])
	switch r.Kind {
	case KindAPIService:
		r.add("spec.caBundle", decodeBytes(o.Spec.CABundle), serviceOf(o.Spec.Service), false, nil)
	case KindValidatingWebhookConfiguration, KindMutatingWebhookConfiguration:
		for _, webhook := range o.Webhooks {
			policy := webhook.FailurePolicy
			if policy == "" {
				policy = "Fail"
			}
			config := webhook.ClientConfig
			if config == nil {
				config = &clientConfig{}
			}
			r.add("webhooks["+webhook.Name+"].clientConfig.caBundle", decodeBytes(config.CABundle), serviceOf(config.Service), config.URL != nil, &Webhook{Name: webhook.Name, FailurePolicy: policy})
		}
	case KindCustomResourceDefinition:
		if c := o.Spec.Conversion; c != nil && c.Webhook != nil && c.Webhook.ClientConfig != nil {
			config := c.Webhook.ClientConfig
			r.add("spec.conversion.webhook.clientConfig.caBundle", decodeBytes(config.CABundle), serviceOf(config.Service), config.URL != nil, nil)
		}
	case KindClusterTrustBundle:
		r.add("spec.trustBundle", []byte(o.Spec.TrustBundle), nil, false, nil)
	default:
		return nil, fmt.Errorf("%s %s is not a registration kind", r.Kind, r.Name)
	}
	return r, nil
}

// add records a non-empty caBundle, sharing the bytes of an equal one.
func (r *Registration) add(key string, value []byte, service *ServiceReference, url bool, webhook *Webhook) {
	if len(bytes.TrimSpace(value)) == 0 {
		return
	}
	for _, earlier := range r.CABundles {
		if bytes.Equal(earlier.PEM, value) {
			value = earlier.PEM
			break
		}
	}
	r.CABundles = append(r.CABundles, CABundle{Key: key, PEM: value, Webhook: webhook, Service: service, URL: url && service == nil})
}

// decodeBytes reads a []byte field, which JSON carries as base64. A value
// that is not base64 is kept as it is, for the analysis to report.
func decodeBytes(text string) []byte {
	if text == "" {
		return nil
	}
	decoded, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return []byte(text)
	}
	return decoded
}

func serviceOf(service *objectService) *ServiceReference {
	if service == nil || service.Name == "" {
		return nil
	}
	return &ServiceReference{Namespace: service.Namespace, Name: service.Name}
}

// AnalysisInput is the certificate analysis' input for the registration's
// status: its caBundles by field path. Listed (Analyze's second result)
// only when some caBundle holds a PEM certificate.
func (r *Registration) AnalysisInput() certificate.Input {
	data := make(map[string][]byte, len(r.CABundles))
	for _, b := range r.CABundles {
		data[b.Key] = b.PEM
	}
	return certificate.Input{CABundles: true, Data: data, CreatedAt: r.CreationTimestamp.Time}
}
