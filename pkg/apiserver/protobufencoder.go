package apiserver

import (
	"encoding/binary"
	"io"
	"slices"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/registry/certificatestatus"
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
// 2: each item). A length comes before each message, so the items are
// marshalled into a buffer before anything is written.
type protobufCodec struct {
	// standard is the generic server's encoder for the same version.
	standard runtime.Encoder
	typeMeta []byte // the Unknown's TypeMeta of a CertificateStatusList
	id       runtime.Identifier
}

func newProtobufCodec(standard runtime.Encoder, gv schema.GroupVersion) protobufCodec {
	typeMeta, _ := (&runtime.TypeMeta{APIVersion: gv.String(), Kind: "CertificateStatusList"}).Marshal() // two strings always marshal
	return protobufCodec{standard: standard, typeMeta: typeMeta,
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
	list, ok := obj.(*certificatestatus.List)
	if !ok {
		return c.standard.Encode(obj, w)
	}
	// Not pooled: a list of 10 000 is ≈ 20 MB, too much to keep between lists.
	var raw []byte

	meta, err := list.ListMeta.Marshal()
	if err != nil {
		return err
	}
	raw = appendField(raw, keyField1, meta)
	var item v1alpha1.CertificateStatus
	written := 0
	err = list.Each(func(internal *certstatus.CertificateStatus) error {
		item = v1alpha1.CertificateStatus{}
		if err := v1alpha1.Convert_certstatus_CertificateStatus_To_v1alpha1_CertificateStatus(internal, &item, nil); err != nil {
			return err
		}
		size := item.Size()
		if written == 0 {
			// Objects of a list are about the same size: one allocation
			// instead of append's growth by a quarter (≈ 5× the list in copies).
			raw = slices.Grow(raw, (size+8)*len(list.Items)*9/8)
		}
		written++
		raw = binary.AppendUvarint(append(raw, keyField2), uint64(size))
		start := len(raw)
		raw = append(raw, make([]byte, size)...)
		_, err := item.MarshalToSizedBuffer(raw[start:])
		return err
	})
	if err != nil {
		return err
	}

	// "k8s\x00", then the Unknown's TypeMeta and the length of its raw bytes.
	head := append([]byte("k8s\x00"), keyField1)
	head = binary.AppendUvarint(head, uint64(len(c.typeMeta)))
	head = append(head, c.typeMeta...)
	head = binary.AppendUvarint(append(head, keyField2), uint64(len(raw)))
	if _, err := w.Write(head); err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
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
