package registrations

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// Object is a registration of any kind as decoded from the API's JSON:
// the fields FromObject reads, and nothing else. encoding/json skips every
// other field without building it, so a CRD's openAPIV3Schema (hundreds of
// KiB of nested maps as unstructured or typed JSONSchemaProps) is scanned
// once and never allocated. It is what the registrations' informers list
// and watch; their transform turns it into a Registration.
//
// Build it with Decode (or Codec): the decoder fills ObjectMeta from the
// decoded metadata. The embedded ObjectMeta makes it a metav1.Object for
// the reflector (resourceVersion, and the bookmark annotation that ends a
// watch-list's initial events).
type Object struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"-"`

	Metadata objectMeta `json:"metadata"`
	// Spec holds the fields of every kind's spec: caBundle and service
	// (APIService), conversion (CRD), trustBundle (ClusterTrustBundle).
	Spec objectSpec `json:"spec"`
	// Webhooks are a webhook configuration's.
	Webhooks []objectWebhook `json:"webhooks,omitempty"`
}

// ObjectList is a list of registrations of one kind, as the reflector
// lists them (a metav1.ListInterface whose items are runtime.Objects).
type ObjectList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata"`
	Items           []Object `json:"items"`
}

// keptAnnotations are the only annotations decoded: cert-manager's two,
// and the watch-list bookmark's, which the reflector reads.
var keptAnnotations = []string{InjectCAFromSecretAnnotation, InjectCAFromAnnotation, metav1.InitialEventsAnnotationKey}

type objectMeta struct {
	Name              string            `json:"name"`
	UID               types.UID         `json:"uid"`
	ResourceVersion   string            `json:"resourceVersion"`
	CreationTimestamp metav1.Time       `json:"creationTimestamp"`
	Labels            map[string]string `json:"labels"`
	// Annotations decodes every key but only short values: a
	// kubectl.kubernetes.io/last-applied-configuration is the whole object
	// again (a CRD's schema included).
	Annotations map[string]shortString `json:"annotations"`
	// managedFields, as large as the schema for a CRD, is not a field here.
}

// shortString keeps a JSON string of at most maxAnnotation bytes and drops
// a longer one without decoding it.
type shortString struct {
	value string
	set   bool
}

// maxAnnotation bounds the annotation values kept: the kept ones are
// "<namespace>/<name>" and "true".
const maxAnnotation = 1024

func (s *shortString) UnmarshalJSON(data []byte) error {
	if len(data) > maxAnnotation+2 {
		return nil
	}
	s.set = json.Unmarshal(data, &s.value) == nil
	return nil
}

type objectSpec struct {
	CABundle    string         `json:"caBundle,omitempty"`
	Service     *objectService `json:"service,omitempty"`
	Conversion  *conversion    `json:"conversion,omitempty"`
	TrustBundle string         `json:"trustBundle,omitempty"`
}

type conversion struct {
	Webhook *conversionWebhook `json:"webhook,omitempty"`
}

type conversionWebhook struct {
	ClientConfig *clientConfig `json:"clientConfig,omitempty"`
}

type objectWebhook struct {
	Name          string        `json:"name"`
	FailurePolicy string        `json:"failurePolicy,omitempty"`
	ClientConfig  *clientConfig `json:"clientConfig,omitempty"`
}

type clientConfig struct {
	// URL is set (possibly empty) when the config has a url.
	URL      *string        `json:"url,omitempty"`
	Service  *objectService `json:"service,omitempty"`
	CABundle string         `json:"caBundle,omitempty"`
}

type objectService struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// settle moves the decoded metadata into ObjectMeta.
func (o *Object) settle() {
	m := o.Metadata
	o.ObjectMeta = metav1.ObjectMeta{Name: m.Name, UID: m.UID, ResourceVersion: m.ResourceVersion, CreationTimestamp: m.CreationTimestamp, Labels: m.Labels}
	for _, key := range keptAnnotations {
		if v, ok := m.Annotations[key]; ok && v.set {
			if o.Annotations == nil {
				o.Annotations = map[string]string{}
			}
			o.Annotations[key] = v.value
		}
	}
	o.Metadata = objectMeta{}
}

// Decode decodes one registration. A field of an unexpected type is
// treated as absent (encoding/json decodes the rest): the API server
// validated the object, and nothing here may fail the informer.
func Decode(data []byte, into *Object) error {
	*into = Object{}
	if err := tolerant(json.Unmarshal(data, into)); err != nil {
		return err
	}
	into.settle()
	return nil
}

// DecodeList decodes a list of registrations, as Decode each item.
func DecodeList(data []byte, into *ObjectList) error {
	*into = ObjectList{}
	if err := tolerant(json.Unmarshal(data, into)); err != nil {
		return err
	}
	for i := range into.Items {
		into.Items[i].settle()
	}
	return nil
}

// tolerant drops type mismatches, which encoding/json reports after
// decoding everything else.
func tolerant(err error) error {
	var mismatch *json.UnmarshalTypeError
	if errors.As(err, &mismatch) {
		return nil
	}
	return err
}

// Codec is the runtime.Serializer of the registrations' REST client: it
// decodes into Object and ObjectList, and a body without a target into an
// Object, or a metav1.Status when that is what it is (a watch's ERROR
// event, an error response). It encodes as plain JSON (the client sends
// no bodies).
type Codec struct{}

var _ runtime.Serializer = Codec{}

func (Codec) Decode(data []byte, _ *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	switch into := into.(type) {
	case *ObjectList:
		err := DecodeList(data, into)
		return into, gvkOf(into), err
	case *Object:
		err := Decode(data, into)
		return into, gvkOf(into), err
	case *metav1.Status:
		err := json.Unmarshal(data, into)
		return into, gvkOf(into), err
	case nil:
		o := &Object{}
		if err := Decode(data, o); err != nil {
			return nil, nil, err
		}
		if o.Kind != "Status" {
			return o, gvkOf(o), nil
		}
		status := &metav1.Status{}
		err := json.Unmarshal(data, status)
		return status, gvkOf(status), err
	default:
		return nil, nil, fmt.Errorf("registrations decode into %T, not %T", into, into)
	}
}

func gvkOf(obj runtime.Object) *schema.GroupVersionKind {
	gvk := obj.GetObjectKind().GroupVersionKind()
	return &gvk
}

func (Codec) Encode(obj runtime.Object, w io.Writer) error {
	return json.NewEncoder(w).Encode(obj)
}

func (Codec) Identifier() runtime.Identifier { return "certstatus-registrations-json" }

// DeepCopyObject is a deep copy (runtime.Object).
func (o *Object) DeepCopyObject() runtime.Object {
	c := &Object{TypeMeta: o.TypeMeta, Spec: o.Spec.deepCopy()}
	o.ObjectMeta.DeepCopyInto(&c.ObjectMeta)
	c.Metadata = o.Metadata
	if o.Metadata.Labels != nil || o.Metadata.Annotations != nil {
		c.Metadata.Labels = copyMap(o.Metadata.Labels)
		c.Metadata.Annotations = copyMap(o.Metadata.Annotations)
	}
	if o.Webhooks != nil {
		c.Webhooks = make([]objectWebhook, len(o.Webhooks))
		for i, w := range o.Webhooks {
			c.Webhooks[i] = objectWebhook{Name: w.Name, FailurePolicy: w.FailurePolicy, ClientConfig: w.ClientConfig.deepCopy()}
		}
	}
	return c
}

// DeepCopyObject is a deep copy (runtime.Object).
func (l *ObjectList) DeepCopyObject() runtime.Object {
	c := &ObjectList{TypeMeta: l.TypeMeta}
	l.ListMeta.DeepCopyInto(&c.ListMeta)
	if l.Items != nil {
		c.Items = make([]Object, len(l.Items))
		for i := range l.Items {
			c.Items[i] = *l.Items[i].DeepCopyObject().(*Object)
		}
	}
	return c
}

func copyMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return nil
	}
	c := make(map[string]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func (s objectSpec) deepCopy() objectSpec {
	c := s
	if s.Service != nil {
		service := *s.Service
		c.Service = &service
	}
	if s.Conversion != nil {
		c.Conversion = &conversion{}
		if s.Conversion.Webhook != nil {
			c.Conversion.Webhook = &conversionWebhook{ClientConfig: s.Conversion.Webhook.ClientConfig.deepCopy()}
		}
	}
	return c
}

func (c *clientConfig) deepCopy() *clientConfig {
	if c == nil {
		return nil
	}
	out := &clientConfig{CABundle: c.CABundle}
	if c.URL != nil {
		url := *c.URL
		out.URL = &url
	}
	if c.Service != nil {
		service := *c.Service
		out.Service = &service
	}
	return out
}

// DecodeNext decodes the next JSON value of a stream into a registration,
// as Decode does, in the stream's one pass (a watch event's object).
func DecodeNext(decoder *json.Decoder, into *Object) error {
	*into = Object{}
	if err := tolerant(decoder.Decode(into)); err != nil {
		return err
	}
	into.settle()
	return nil
}
