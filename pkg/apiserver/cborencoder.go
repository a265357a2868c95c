package apiserver

import (
	"bufio"
	"encoding/binary"
	"io"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/cbor/direct"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/registry/computed"
)

// cborCodec writes a storage list as v1alpha1 CBOR item by item, as
// protobufCodec does protobuf: each status is built, converted and encoded
// on its own, where the generic encoder needs the whole list built and
// converted first (≈ 44 MB for 10 000 statuses, fillingCodec). The bytes
// are those of the generic server's CBOR encoder
// (TestCBORCodecMatchesGeneric). Everything else goes to that encoder.
//
// A CBOR array says how many items it has, not how many bytes, so nothing
// has to be held: the self-described CBOR tag, then a map of the list's
// four keys in the order of k8s.io/apimachinery's deterministic encoding
// (shorter keys first: kind, items, metadata, apiVersion), each item
// encoded with the serializer's own mode (direct.Marshal). Every kind's
// item has the same fields (metadata, status), so one writer serves them all.
type cborCodec struct{ itemCodec }

func newCBORCodec(standard runtime.Encoder, gv schema.GroupVersion) cborCodec {
	return cborCodec{newItemCodec("cbor", standard, gv)}
}

// selfDescribedCBOR is tag 55799, which the serializer puts before every
// object it writes.
var selfDescribedCBOR = []byte{0xd9, 0xd9, 0xf7}

// CBOR major types, in the high three bits of a data item's first byte.
const (
	cborArray = 4 << 5
	cborMap   = 5 << 5
)

func (c cborCodec) Encode(obj runtime.Object, w io.Writer) error {
	list, ok := obj.(computed.StatusList)
	if !ok {
		return c.standard.Encode(obj, w)
	}
	out := bufio.NewWriterSize(w, flushAt)
	write := func(values ...any) error {
		for _, v := range values {
			encoded, err := direct.Marshal(v)
			if err != nil {
				return err
			}
			if _, err := out.Write(encoded); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := out.Write(selfDescribedCBOR); err != nil {
		return err
	}
	if _, err := out.Write(cborHead(cborMap, 4)); err != nil {
		return err
	}
	if err := write("kind", list.ListKind(), "items"); err != nil {
		return err
	}
	if _, err := out.Write(cborHead(cborArray, uint64(list.Len()))); err != nil {
		return err
	}
	var item v1alpha1.CertificateStatus
	err := list.EachStatus(func(objectMeta *metav1.ObjectMeta, internal *certstatus.CertificateStatusStatus) error {
		item = v1alpha1.CertificateStatus{ObjectMeta: *objectMeta}
		if err := v1alpha1.Convert_certstatus_CertificateStatusStatus_To_v1alpha1_CertificateStatusStatus(internal, &item.Status, nil); err != nil {
			return err
		}
		return write(&item)
	})
	if err != nil {
		return err
	}
	if err := write("metadata", list.Header(), "apiVersion", c.apiVersion); err != nil {
		return err
	}
	return out.Flush()
}

// cborHead is the head of a data item of the major type with argument n
// (RFC 8949 section 3): n itself below 24, else a byte saying how many
// bytes of n follow, big-endian.
func cborHead(major byte, n uint64) []byte {
	switch {
	case n < 24:
		return []byte{major | byte(n)}
	case n <= 0xff:
		return []byte{major | 24, byte(n)}
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16([]byte{major | 25}, uint16(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32([]byte{major | 26}, uint32(n))
	}
	return binary.BigEndian.AppendUint64([]byte{major | 27}, n)
}
