package apiserver

import (
	"encoding/binary"
	"io"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/offheap"
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
type protobufCodec struct{ itemCodec }

func newProtobufCodec(standard runtime.Encoder, gv schema.GroupVersion) protobufCodec {
	return protobufCodec{newItemCodec("protobuf", standard, gv)}
}

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
	// The list is marshalled whole (its length comes first): ≈ 20 MB for
	// 10 000, held outside the heap so that it does not also raise the garbage
	// collector's goal by as much (package offheap).
	var raw offheap.Buffer
	defer raw.Free()

	meta, err := list.Header().Marshal()
	if err != nil {
		return err
	}
	raw.B = appendField(raw.B, keyField1, meta)
	var status v1alpha1.CertificateStatusStatus
	reserved := false
	err = list.EachStatus(func(objectMeta *metav1.ObjectMeta, internal *certstatus.CertificateStatusStatus) error {
		status = v1alpha1.CertificateStatusStatus{}
		if err := v1alpha1.Convert_certstatus_CertificateStatusStatus_To_v1alpha1_CertificateStatusStatus(internal, &status, nil); err != nil {
			return err
		}
		metaSize, statusSize := objectMeta.Size(), status.Size()
		size := 1 + uvarintLen(metaSize) + metaSize + 1 + uvarintLen(statusSize) + statusSize
		if !reserved {
			// Objects of a list are about the same size: room for all at
			// the first one (one mapping instead of growth by doubling).
			raw.Reserve((size + 8) * list.Len() * 9 / 8)
			reserved = true
		}
		raw.Reserve(1 + binary.MaxVarintLen64 + size)
		b := binary.AppendUvarint(append(raw.B, keyField2), uint64(size))
		b = binary.AppendUvarint(append(b, keyField1), uint64(metaSize))
		if b, err = marshalAppend(b, metaSize, objectMeta.MarshalToSizedBuffer); err != nil {
			return err
		}
		b = binary.AppendUvarint(append(b, keyField2), uint64(statusSize))
		raw.B, err = marshalAppend(b, statusSize, status.MarshalToSizedBuffer)
		return err
	})
	if err != nil {
		return err
	}

	typeMeta, err := (&runtime.TypeMeta{APIVersion: c.apiVersion, Kind: list.ListKind()}).Marshal()
	if err != nil {
		return err
	}
	// "k8s\x00", then the Unknown's TypeMeta and the length of its raw bytes.
	head := append([]byte("k8s\x00"), keyField1)
	head = binary.AppendUvarint(head, uint64(len(typeMeta)))
	head = append(head, typeMeta...)
	head = binary.AppendUvarint(append(head, keyField2), uint64(len(raw.B)))
	if _, err := w.Write(head); err != nil {
		return err
	}
	if _, err := raw.WriteTo(w); err != nil {
		return err
	}
	// An empty content encoding and content type.
	_, err = w.Write([]byte{keyField3, 0, keyField4, 0})
	return err
}

func appendField(buf []byte, key byte, value []byte) []byte {
	buf = binary.AppendUvarint(append(buf, key), uint64(len(value)))
	return append(buf, value...)
}

// marshalAppend appends size bytes marshalled by marshal. They are not
// cleared first: marshal writes every one of them (size is what the
// message's Size said), and clearing 20 MB only touched each page twice.
func marshalAppend(buf []byte, size int, marshal func([]byte) (int, error)) ([]byte, error) {
	start := len(buf)
	buf = slices.Grow(buf, size)[:start+size]
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
