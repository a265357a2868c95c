package statuscache

import (
	"bytes"
	"io"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// change is an event with its objects built, as a watcher delivers it.
type change struct {
	Type watch.EventType
	RV   ResourceVersion
	// Object is the object after the change (for Deleted, the last state
	// with the deletion's resourceVersion).
	Object *certstatus.CertificateStatus
	// Previous is the object before the change; nil for Added.
	Previous *certstatus.CertificateStatus
	// shared, when set, is Object as every watcher sends it: built once,
	// and encoded once per wire format.
	shared runtime.Object
}

// newChange is a live event, handed to every watcher at once.
func newChange(ev *event, object, previous *certstatus.CertificateStatus) *change {
	return &change{Type: ev.Type, RV: ev.RV, Object: object, Previous: previous, shared: &encodedOnce{CertificateStatus: object}}
}

// outgoing is the object to send when the event passes unchanged.
func (ch *change) outgoing() runtime.Object {
	if ch.shared != nil {
		return ch.shared
	}
	return ch.Object
}

// encodedOnce is an object sent to many watchers. The API server's watch
// encoder recognises runtime.CacheableObject and asks it for the bytes of
// each wire format, so a thousand watchers of one event cost one
// serialization per format instead of a thousand (the apiserver's own
// watch cache does the same). Embedding the object keeps its metadata
// readable; the object is never modified.
type encodedOnce struct {
	*certstatus.CertificateStatus

	mu        sync.Mutex
	encodings map[runtime.Identifier]*encoding
}

type encoding struct {
	once sync.Once
	raw  []byte
	err  error
}

var _ runtime.CacheableObject = &encodedOnce{}

// CacheEncode writes the encoding for id, computing it on first use.
func (o *encodedOnce) CacheEncode(id runtime.Identifier, encode func(runtime.Object, io.Writer) error, w io.Writer) error {
	o.mu.Lock()
	if o.encodings == nil {
		o.encodings = map[runtime.Identifier]*encoding{}
	}
	e, ok := o.encodings[id]
	if !ok {
		e = &encoding{}
		o.encodings[id] = e
	}
	o.mu.Unlock()

	e.once.Do(func() {
		var buffer bytes.Buffer
		e.err = encode(o.GetObject(), &buffer)
		e.raw = buffer.Bytes()
	})
	if e.err != nil {
		return e.err
	}
	_, err := w.Write(e.raw)
	return err
}

// GetObject hands out a copy, as runtime.CacheableObject requires: the
// caller owns it.
func (o *encodedOnce) GetObject() runtime.Object { return o.CertificateStatus.DeepCopy() }

// DeepCopyObject copies the object without the encodings.
func (o *encodedOnce) DeepCopyObject() runtime.Object { return o.CertificateStatus.DeepCopy() }
