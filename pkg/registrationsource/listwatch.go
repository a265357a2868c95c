package registrationsource

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
// serves no protobuf), lists and error bodies decoded by
// registrations.Codec into registrations.ObjectList and metav1.Status, so
// that a CRD's schema is never built. Watch streams are read by
// eventDecoder, not the client's negotiator.
func newRESTClient(config *rest.Config) (*rest.RESTClient, error) {
	config = rest.CopyConfig(config)
	config.ContentType = runtime.ContentTypeJSON
	config.AcceptContentTypes = runtime.ContentTypeJSON
	config.NegotiatedSerializer = runtime.NewSimpleNegotiatedSerializer(runtime.SerializerInfo{
		MediaType:        runtime.ContentTypeJSON,
		MediaTypeType:    "application",
		MediaTypeSubType: "json",
		EncodesAsText:    true,
		Serializer:       registrations.Codec{},
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
			// Stream, not Watch: a refused or failed request is the
			// same error (its Status decoded by the codec), and the
			// body is read by eventDecoder.
			body, err := client.Get().AbsPath(path).SpecificallyVersionedParams(&options, scheme.ParameterCodec, optionsVersion).Stream(ctx)
			if err != nil {
				return nil, err
			}
			return watch.NewStreamWatcher(newEventDecoder(body), apierrors.NewClientErrorReporter(http.StatusInternalServerError, http.MethodGet, "ClientWatchDecoding")), nil
		},
	}
}

// eventDecoder reads a JSON watch stream ({"type":…,"object":…} values)
// in one pass per event: the object is decoded where it stands into a
// registrations.Object (an ERROR event's into a metav1.Status). client-go's
// watch decoder would frame each event, decode the envelope, copy the
// object's bytes and decode them again: three more scans of each
// ~400 KiB CRD.
type eventDecoder struct {
	body    io.ReadCloser
	decoder *json.Decoder
}

func newEventDecoder(body io.ReadCloser) *eventDecoder {
	return &eventDecoder{body: body, decoder: json.NewDecoder(body)}
}

func (d *eventDecoder) Decode() (watch.EventType, runtime.Object, error) {
	if err := d.delim('{'); err != nil {
		return "", nil, err
	}
	var eventType watch.EventType
	var object runtime.Object
	// raw holds an object that came before its type (kube-apiserver
	// writes the type first).
	var raw json.RawMessage
	for d.decoder.More() {
		token, err := d.decoder.Token()
		if err != nil {
			return "", nil, err
		}
		switch token {
		case "type":
			if err := d.decoder.Decode(&eventType); err != nil {
				return "", nil, err
			}
		case "object":
			if eventType == "" {
				err = d.decoder.Decode(&raw)
			} else {
				object, err = decodeEventObject(eventType, d.decoder)
			}
			if err != nil {
				return "", nil, err
			}
		default:
			var skipped json.RawMessage
			if err := d.decoder.Decode(&skipped); err != nil {
				return "", nil, err
			}
		}
	}
	if err := d.delim('}'); err != nil {
		return "", nil, err
	}
	if object == nil && raw != nil {
		var err error
		if object, err = decodeEventObject(eventType, json.NewDecoder(bytes.NewReader(raw))); err != nil {
			return "", nil, err
		}
	}
	switch eventType {
	case watch.Added, watch.Modified, watch.Deleted, watch.Bookmark, watch.Error:
	default:
		return "", nil, fmt.Errorf("got invalid watch event type: %q", eventType)
	}
	if object == nil {
		return "", nil, fmt.Errorf("watch event %s without an object", eventType)
	}
	return eventType, object, nil
}

func decodeEventObject(eventType watch.EventType, decoder *json.Decoder) (runtime.Object, error) {
	if eventType == watch.Error {
		status := &metav1.Status{}
		return status, decoder.Decode(status)
	}
	object := &registrations.Object{}
	return object, registrations.DecodeNext(decoder, object)
}

// delim reads the token want; io.EOF between events is the stream's end.
func (d *eventDecoder) delim(want json.Delim) error {
	token, err := d.decoder.Token()
	if err != nil {
		return err
	}
	if token != want {
		return fmt.Errorf("watch stream: got %v, want %v", token, want)
	}
	return nil
}

func (d *eventDecoder) Close() { _ = d.body.Close() }
