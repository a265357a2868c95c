package registrationsource

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/certstatus/certstatus/pkg/registrations"
)

// newRESTClient is the registrations' client: JSON only (apiextensions
// serves no protobuf), decoded by registrations.Codec into
// registrations.Object, so that a CRD's schema is never built. Watch
// events keep client-go's framing (metav1.WatchEvent, JSON stream); only
// their embedded object goes through the codec.
func newRESTClient(config *rest.Config) (*rest.RESTClient, error) {
	events, ok := runtime.SerializerInfoForMediaType(scheme.Codecs.WithoutConversion().SupportedMediaTypes(), runtime.ContentTypeJSON)
	if !ok || events.StreamSerializer == nil {
		return nil, fmt.Errorf("no JSON stream serializer for watch events")
	}
	config = rest.CopyConfig(config)
	config.ContentType = runtime.ContentTypeJSON
	config.AcceptContentTypes = runtime.ContentTypeJSON
	config.NegotiatedSerializer = runtime.NewSimpleNegotiatedSerializer(runtime.SerializerInfo{
		MediaType:        runtime.ContentTypeJSON,
		MediaTypeType:    "application",
		MediaTypeSubType: "json",
		EncodesAsText:    true,
		Serializer:       registrations.Codec{},
		StreamSerializer: &runtime.StreamSerializerInfo{
			EncodesAsText: true,
			Serializer:    events.StreamSerializer.Serializer,
			Framer:        events.StreamSerializer.Framer,
		},
	})
	return rest.UnversionedRESTClientFor(config)
}

// optionsVersion is the version list options are encoded in, as the
// dynamic client does (the client has no group version of its own).
var optionsVersion = schema.GroupVersion{Version: "v1"}

// listWatch lists and watches one registration resource into
// registrations.Object and ObjectList. The reflector does the rest as for
// any typed client: resourceVersions, bookmarks (the watch-list's
// initial-events-end annotation is one Object keeps), 410 relists.
func listWatch(client rest.Interface, resource schema.GroupVersionResource) *toolscache.ListWatch {
	path := "/apis/" + resource.Group + "/" + resource.Version + "/" + resource.Resource
	return &toolscache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, options metav1.ListOptions) (runtime.Object, error) {
			list := &registrations.ObjectList{}
			err := client.Get().AbsPath(path).SpecificallyVersionedParams(&options, scheme.ParameterCodec, optionsVersion).Do(ctx).Into(list)
			return list, err
		},
		WatchFuncWithContext: func(ctx context.Context, options metav1.ListOptions) (watch.Interface, error) {
			options.Watch = true
			return client.Get().AbsPath(path).SpecificallyVersionedParams(&options, scheme.ParameterCodec, optionsVersion).Watch(ctx)
		},
	}
}
