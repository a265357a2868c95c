package apiserver

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/registry/certificatestatus"
)

// protobufCodec writes a storage list as v1alpha1 protobuf item by item: each
// status is built, converted and marshalled on its own and written as it
// comes, so the list never exists in full, neither built, converted nor
// encoded (as through fillingCodec). The bytes are those of the generic server's protobuf
// encoder (TestProtobufCodecMatchesGeneric). Everything else goes to that
// encoder.
//
// The wire format of a list response: the "k8s\x00" prefix, then a
// runtime.Unknown (1: TypeMeta, 2: raw bytes, 3: content encoding, 4:
// content type) whose raw bytes are the CertificateStatusList (1: ListMeta,
// 2: each item). A length comes before each message, so the items are sized
// in a first pass (each status built and dropped) and written in a second.
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
	meta, err := list.ListMeta.Marshal()
	if err != nil {
		return err
	}
	// First pass: every item's size, for the lengths that come before them.
	// Each status is built, converted and sized, then dropped: holding the
	// marshalled list instead (≈ 2 KiB an object, 21 MB for 10 000) was
	// what the heap held at its peak under list load, and the collector's
	// slack doubles it in RSS. Building a status twice costs CPU instead.
	sizes := make([]int, 0, len(list.Items))
	rawSize := 1 + uvarintLen(len(meta)) + len(meta)
	var item v1alpha1.CertificateStatus
	err = list.Each(func(internal *certstatus.CertificateStatus) error {
		item = v1alpha1.CertificateStatus{}
		if err := v1alpha1.Convert_certstatus_CertificateStatus_To_v1alpha1_CertificateStatus(internal, &item, nil); err != nil {
			return err
		}
		size := item.Size()
		sizes = append(sizes, size)
		rawSize += 1 + uvarintLen(size) + size
		return nil
	})
	if err != nil {
		return err
	}

	// "k8s\x00", then the Unknown's TypeMeta and the length of its raw bytes,
	// then the list: its ListMeta, then each item, written as they come.
	bp := jsonBuffers.Get().(*[]byte)
	defer jsonBuffers.Put(bp)
	buf := append((*bp)[:0], "k8s\x00"...)
	buf = appendField(buf, keyField1, c.typeMeta)
	buf = binary.AppendUvarint(append(buf, keyField2), uint64(rawSize))
	buf = appendField(buf, keyField1, meta)
	written := 0
	err = list.Each(func(internal *certstatus.CertificateStatus) error {
		item = v1alpha1.CertificateStatus{}
		if err := v1alpha1.Convert_certstatus_CertificateStatus_To_v1alpha1_CertificateStatus(internal, &item, nil); err != nil {
			return err
		}
		size := item.Size()
		if written >= len(sizes) || size != sizes[written] {
			// Statuses are built from immutable cache entries at their own
			// instant, so this cannot happen; if it did, the lengths
			// already written would be wrong.
			return fmt.Errorf("protobuf list: item %d is %d bytes, %d when the list was sized", written, size, sizes[min(written, len(sizes)-1)])
		}
		written++
		buf = binary.AppendUvarint(append(buf, keyField2), uint64(size))
		start := len(buf)
		buf = slices.Grow(buf, size)[:start+size]
		if _, err := item.MarshalToSizedBuffer(buf[start:]); err != nil {
			return err
		}
		if len(buf) >= flushAt {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
		return nil
	})
	if err != nil {
		return err
	}
	// An empty content encoding and content type.
	buf = append(buf, keyField3, 0, keyField4, 0)
	*bp = buf[:0]
	_, err = w.Write(buf)
	return err
}

// uvarintLen is how many bytes binary.AppendUvarint writes for n.
func uvarintLen(n int) int {
	length := 1
	for v := uint64(n); v >= 0x80; v >>= 7 {
		length++
	}
	return length
}

func appendField(buf []byte, key byte, value []byte) []byte {
	buf = binary.AppendUvarint(append(buf, key), uint64(len(value)))
	return append(buf, value...)
}
