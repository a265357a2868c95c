package apiserver

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	genericapiserver "k8s.io/apiserver/pkg/server"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"

	"github.com/certstatus/certstatus/pkg/apis/certstatus/install"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
)

var (
	// Scheme knows the certstatus.dev types and the meta/v1 option kinds.
	Scheme = runtime.NewScheme()
	// Codecs encodes and decodes with Scheme.
	Codecs = serializer.NewCodecFactory(Scheme)
)

func init() {
	install.Install(Scheme)
	// The installer needs WatchEvent and the v1 option kinds (ListOptions, ...).
	metav1.AddToGroupVersion(Scheme, schema.GroupVersion{Version: "v1"})
	unversioned := schema.GroupVersion{Group: "", Version: "v1"}
	Scheme.AddUnversionedTypes(unversioned,
		&metav1.Status{},
		&metav1.APIVersions{},
		&metav1.APIGroupList{},
		&metav1.APIGroup{},
		&metav1.APIResourceList{},
	)
}

// apiGroupInfo is the certstatus.dev group as served, without storage: the
// benchmarks encode with its serializers.
func apiGroupInfo() genericapiserver.APIGroupInfo {
	group := genericapiserver.NewDefaultAPIGroupInfo(certstatus.GroupName, Scheme, metav1.ParameterCodec, Codecs)
	group.NegotiatedSerializer = listEncoding{group.NegotiatedSerializer}
	return group
}

// listEncoding is the group's codecs (JSON, YAML, protobuf, CBOR when
// enabled) with every encoder wrapped, the one place a storage list
// (computed.StatusList, of any kind) is turned into bytes: plain and pretty
// JSON, protobuf and CBOR for v1alpha1 are written item by item (jsonCodec,
// prettyJSONCodec, protobufCodec, cborCodec); every other
// encoder gets the list with its statuses built (fillingCodec).
type listEncoding struct{ runtime.NegotiatedSerializer }

// itemCodec is what each encoder that writes a storage list item by item
// (jsonCodec, protobufCodec, cborCodec) holds: the generic server's encoder
// of the same format and version, for everything but a storage list; the
// version it writes; and an identifier naming both.
type itemCodec struct {
	standard   runtime.Encoder
	apiVersion string
	id         runtime.Identifier
}

func newItemCodec(format string, standard runtime.Encoder, gv schema.GroupVersion) itemCodec {
	return itemCodec{standard: standard, apiVersion: gv.String(),
		id: runtime.Identifier("certstatus-" + format + ":" + gv.String() + ":" + string(standard.Identifier()))}
}

func (c itemCodec) Identifier() runtime.Identifier { return c.id }

// plainJSON marks the JSON serializer (not the pretty one) for EncoderForVersion.
type plainJSON struct{ runtime.Serializer }

// prettyJSON marks the pretty JSON serializer; compact is the plain one.
type prettyJSON struct {
	runtime.Serializer
	compact runtime.Serializer
}

// protobufMarked marks the protobuf serializer for EncoderForVersion.
type protobufMarked struct{ runtime.Serializer }

// cborMarked marks the CBOR serializer for EncoderForVersion.
type cborMarked struct{ runtime.Serializer }

func (l listEncoding) SupportedMediaTypes() []runtime.SerializerInfo {
	var supported []runtime.SerializerInfo
	for _, info := range l.NegotiatedSerializer.SupportedMediaTypes() {
		switch info.MediaType {
		case runtime.ContentTypeJSON:
			if info.PrettySerializer != nil {
				info.PrettySerializer = prettyJSON{info.PrettySerializer, info.Serializer}
			}
			info.Serializer = plainJSON{info.Serializer}
		case runtime.ContentTypeProtobuf:
			info.Serializer = protobufMarked{info.Serializer}
		case runtime.ContentTypeCBOR:
			info.Serializer = cborMarked{info.Serializer}
		}
		supported = append(supported, info)
	}
	return supported
}

func (l listEncoding) EncoderForVersion(encoder runtime.Encoder, gv runtime.GroupVersioner) runtime.Encoder {
	if plain, ok := encoder.(plainJSON); ok {
		standard := l.NegotiatedSerializer.EncoderForVersion(plain.Serializer, gv)
		if gv, ok := gv.(schema.GroupVersion); ok && gv == v1alpha1.SchemeGroupVersion {
			return newJSONCodec(standard, gv)
		}
		return fillingCodec{standard}
	}
	if pretty, ok := encoder.(prettyJSON); ok {
		if gv, ok := gv.(schema.GroupVersion); ok && gv == v1alpha1.SchemeGroupVersion {
			return newPrettyJSONCodec(l.NegotiatedSerializer.EncoderForVersion(pretty.compact, gv), gv)
		}
		return fillingCodec{l.NegotiatedSerializer.EncoderForVersion(pretty.Serializer, gv)}
	}
	if marked, ok := encoder.(protobufMarked); ok {
		standard := fillingCodec{l.NegotiatedSerializer.EncoderForVersion(marked.Serializer, gv)}
		if gv, ok := gv.(schema.GroupVersion); ok && gv == v1alpha1.SchemeGroupVersion {
			return newProtobufCodec(standard, gv)
		}
		return standard
	}
	if marked, ok := encoder.(cborMarked); ok {
		standard := fillingCodec{l.NegotiatedSerializer.EncoderForVersion(marked.Serializer, gv)}
		if gv, ok := gv.(schema.GroupVersion); ok && gv == v1alpha1.SchemeGroupVersion {
			return newCBORCodec(standard, gv)
		}
		return standard
	}
	return fillingCodec{l.NegotiatedSerializer.EncoderForVersion(encoder, gv)}
}
