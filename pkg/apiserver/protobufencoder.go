package apiserver

import (
	"encoding/binary"
	"errors"
	"io"
	goruntime "runtime"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/registry/computed"
)

// protobufCodec writes a storage list as v1alpha1 protobuf item by item: each
// status is built, converted and marshalled on its own, so the list exists
// once, as its encoding, instead of built, then converted, then encoded
// (fillingCodec). The bytes are those of the generic server's protobuf
// encoder (TestProtobufCodecMatchesGeneric). Everything else goes to that
// encoder.
//
// The wire format of a list response: the "k8s\x00" prefix, then a
// runtime.Unknown (1: TypeMeta, 2: raw bytes, 3: content encoding, 4:
// content type) whose raw bytes are the CertificateStatusList (1: ListMeta,
// 2: each item). Every kind's item is the same message (1: ObjectMeta, 2:
// CertificateStatusStatus), so one writer serves every kind's list. A
// length comes before each message, so the items are marshalled into a
// buffer before anything is written.
type protobufCodec struct {
	// standard is the generic server's encoder for the same version.
	standard   runtime.Encoder
	apiVersion string
	id         runtime.Identifier
}

func newProtobufCodec(standard runtime.Encoder, gv schema.GroupVersion) protobufCodec {
	return protobufCodec{standard: standard, apiVersion: gv.String(),
		id: runtime.Identifier("certstatus-protobuf:" + gv.String() + ":" + string(standard.Identifier()))}
}

func (c protobufCodec) Identifier() runtime.Identifier { return c.id }

// Protobuf field keys (field number << 3 | wire type 2, length-delimited).
const (
	keyField1 = 1<<3 | 2
	keyField2 = 2<<3 | 2
	keyField3 = 3<<3 | 2
	keyField4 = 4<<3 | 2
)

func (c protobufCodec) Encode(obj runtime.Object, w io.Writer) error {
	list, ok := obj.(computed.StatusList)
	if !ok {
		return c.standard.Encode(obj, w)
	}
	meta, err := list.Header().Marshal()
	if err != nil {
		return err
	}
	metaField := appendField(nil, keyField1, meta)
	workers := max(1, min(goruntime.GOMAXPROCS(0), list.Len()/itemsPerWorker))
	parts, err := marshalItems(list, workers)
	if err != nil {
		return err
	}
	size := len(metaField)
	for _, part := range parts {
		size += len(part)
	}

	typeMeta, err := (&runtime.TypeMeta{APIVersion: c.apiVersion, Kind: list.ListKind()}).Marshal()
	if err != nil {
		return err
	}
	// "k8s\x00", then the Unknown's TypeMeta and the length of its raw bytes:
	// the list's metadata, then its items.
	head := append([]byte("k8s\x00"), keyField1)
	head = binary.AppendUvarint(head, uint64(len(typeMeta)))
	head = append(head, typeMeta...)
	head = binary.AppendUvarint(append(head, keyField2), uint64(size))
	for _, b := range append([][]byte{head, metaField}, parts...) {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	// An empty content encoding and content type.
	_, err = w.Write([]byte{keyField3, 0, keyField4, 0})
	return err
}

// itemsPerWorker is the fewest items worth a goroutine of their own.
const itemsPerWorker = 1000

// marshalItems marshals the list's items (field 2 of the list, each) in
// contiguous parts, one goroutine each (up to one per CPU): nothing can be
// written before the whole list's length is known, so the client and the
// aggregator wait idle while a list is built, and a second core halves
// that wait. Not pooled: a list of 10 000 is ≈ 20 MB, too much to keep
// between lists.
func marshalItems(list computed.StatusList, workers int) ([][]byte, error) {
	n := list.Len()
	parts := make([][]byte, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for p := range workers {
		from, to := p*n/workers, (p+1)*n/workers
		wg.Go(func() { parts[p], errs[p] = marshalRange(list, from, to) })
	}
	wg.Wait()
	return parts, errors.Join(errs...)
}

// marshalRange marshals items [from, to) of list.
func marshalRange(list computed.StatusList, from, to int) ([]byte, error) {
	var raw []byte
	var status v1alpha1.CertificateStatusStatus
	err := list.EachStatusIn(from, to, func(objectMeta *metav1.ObjectMeta, internal *certstatus.CertificateStatusStatus) error {
		status = v1alpha1.CertificateStatusStatus{}
		if err := v1alpha1.Convert_certstatus_CertificateStatusStatus_To_v1alpha1_CertificateStatusStatus(internal, &status, nil); err != nil {
			return err
		}
		metaSize, statusSize := objectMeta.Size(), status.Size()
		size := 1 + uvarintLen(metaSize) + metaSize + 1 + uvarintLen(statusSize) + statusSize
		if raw == nil {
			// Objects of a list are about the same size: one allocation
			// instead of append's growth by a quarter (≈ 5× the list in copies).
			raw = make([]byte, 0, (size+8)*(to-from)*9/8)
		}
		raw = binary.AppendUvarint(append(raw, keyField2), uint64(size))
		raw = binary.AppendUvarint(append(raw, keyField1), uint64(metaSize))
		var err error
		if raw, err = marshalAppend(raw, metaSize, objectMeta.MarshalToSizedBuffer); err != nil {
			return err
		}
		raw = binary.AppendUvarint(append(raw, keyField2), uint64(statusSize))
		raw, err = marshalAppend(raw, statusSize, status.MarshalToSizedBuffer)
		return err
	})
	return raw, err
}

func appendField(buf []byte, key byte, value []byte) []byte {
	buf = binary.AppendUvarint(append(buf, key), uint64(len(value)))
	return append(buf, value...)
}

// marshalAppend appends size bytes marshalled by marshal.
func marshalAppend(buf []byte, size int, marshal func([]byte) (int, error)) ([]byte, error) {
	start := len(buf)
	buf = append(buf, make([]byte, size)...)
	_, err := marshal(buf[start:])
	return buf, err
}

// uvarintLen is how many bytes binary.AppendUvarint writes for n.
func uvarintLen(n int) int {
	length := 1
	for v := uint64(n); v >= 0x80; v >>= 7 {
		length++
	}
	return length
}
