package statuscache

import (
	"bytes"
	"io"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// ChangeOf is one change of one object with its objects built, Secret-driven
// and clock-driven alike: what watchers deliver and subscribers get.
type ChangeOf[T any, P Object[T]] struct {
	Type watch.EventType
	// Object is the object after the change (for Deleted, its last state,
	// with the deletion's resourceVersion).
	Object P
	// Previous is the object before the change; nil for Added.
	Previous P

	rv ResourceVersion
	// shared, when set, is Object as every watcher sends it: built once,
	// and encoded once per wire format.
	shared runtime.Object
}

// outgoing is the object to send when the change passes a watcher's
// selectors unchanged.
func (ch *ChangeOf[T, P]) outgoing() runtime.Object {
	if ch.shared != nil {
		return ch.shared
	}
	return ch.Object
}

// encodedOnce is an object sent to many watchers. The API server's watch
// encoder recognises runtime.CacheableObject and asks it for the bytes of
// each wire format, so a thousand watchers of one event cost one
// serialization per format instead of a thousand (the apiserver's own
// watch cache does the same). GetObjectMeta keeps its metadata readable;
// the object is never modified.
type encodedOnce[T any, P Object[T]] struct {
	object P

	mu        sync.Mutex
	encodings map[runtime.Identifier]*encoding
}

type encoding struct {
	once sync.Once
	raw  []byte
	err  error
}

var _ runtime.CacheableObject = &encodedOnce[certstatus.CertificateStatus, *certstatus.CertificateStatus]{}

// CacheEncode writes the encoding for id, computing it on first use.
func (o *encodedOnce[T, P]) CacheEncode(id runtime.Identifier, encode func(runtime.Object, io.Writer) error, w io.Writer) error {
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
func (o *encodedOnce[T, P]) GetObject() runtime.Object { return o.object.DeepCopyObject() }

// DeepCopyObject copies the object without the encodings.
func (o *encodedOnce[T, P]) DeepCopyObject() runtime.Object { return o.object.DeepCopyObject() }

// GetObjectKind is the object's.
func (o *encodedOnce[T, P]) GetObjectKind() schema.ObjectKind { return o.object.GetObjectKind() }

// GetObjectMeta keeps the object's metadata readable (meta.Accessor).
func (o *encodedOnce[T, P]) GetObjectMeta() metav1.Object { return o.object }
