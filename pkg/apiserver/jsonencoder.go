package apiserver

import (
	"encoding/json"
	"io"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/registry/certificatestatus"
	"github.com/certstatus/certstatus/pkg/registry/computed"
)

// jsonCodec writes the objects and lists of every kind as v1alpha1 JSON
// straight from the internal objects the storage returns, byte for byte what
// the generic server's encoder (conversion to v1alpha1, then encoding/json)
// writes for them, and hands everything else to that encoder. Profiles of a
// list showed encoding/json spending most of the time on reflection over
// the many small fields of each certificate, on metav1.Time's MarshalJSON
// (an allocation and a re-scan per timestamp) and on omitempty checks; and
// the conversion copies every object's certificates (the internal
// CertificateInfo has a field v1alpha1 lacks). TestJSONCodecMatchesServedJSON
// compares the two on objects with every field set: a field added to the
// types must be added here too.
type jsonCodec struct{ itemCodec }

func newJSONCodec(standard runtime.Encoder, gv schema.GroupVersion) jsonCodec {
	return jsonCodec{newItemCodec("json", standard, gv)}
}

// flushAt is how much of a list is buffered before it is written: items go
// out as they are encoded, so a list never exists twice in full.
const flushAt = 32 << 10

var jsonBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 2*flushAt); return &b }}

func (c jsonCodec) Encode(obj runtime.Object, w io.Writer) error {
	if co, ok := obj.(runtime.CacheableObject); ok {
		// A watch event built once for every watcher: encoded once.
		return co.CacheEncode(c.Identifier(), c.encode, w)
	}
	return c.encode(obj, w)
}

func (c jsonCodec) encode(obj runtime.Object, w io.Writer) error {
	switch obj := obj.(type) {
	case *certstatus.CertificateStatusList:
		return c.encode(certificatestatus.NewList(obj), w)
	case computed.StatusList:
		for i := range obj.Len() {
			if !ownMetadata(obj.ItemMeta(i)) {
				return c.standard.Encode(obj.Built(), w)
			}
		}
		return c.encodeList(obj, w)
	case *certstatus.CertificateStatus:
		return c.encodeObject(&obj.ObjectMeta, &obj.Status, "CertificateStatus", obj, w)
	case *certstatus.ConfigMapCertificateStatus:
		return c.encodeObject(&obj.ObjectMeta, &obj.Status, "ConfigMapCertificateStatus", obj, w)
	case *certstatus.ClusterCertificateStatus:
		return c.encodeObject(&obj.ObjectMeta, &obj.Status, "ClusterCertificateStatus", obj, w)
	}
	return c.standard.Encode(obj, w)
}

// encodeObject writes one object of any kind (they are all {metadata, status}).
func (c jsonCodec) encodeObject(meta *metav1.ObjectMeta, status *certstatus.CertificateStatusStatus, kind string, obj runtime.Object, w io.Writer) error {
	if !ownMetadata(meta) {
		return c.standard.Encode(obj, w)
	}
	bp := jsonBuffers.Get().(*[]byte)
	defer jsonBuffers.Put(bp)
	buf := c.appendObject((*bp)[:0], meta, status, kind)
	buf = append(buf, '\n')
	*bp = buf[:0]
	_, err := w.Write(buf)
	return err
}

func (c jsonCodec) encodeList(list computed.StatusList, w io.Writer) error {
	bp := jsonBuffers.Get().(*[]byte)
	defer jsonBuffers.Put(bp)
	buf := append((*bp)[:0], '{')
	buf = c.appendTypeMeta(buf, list.ListKind())
	buf = append(buf, `"metadata":`...)
	meta, err := json.Marshal(list.Header())
	if err != nil {
		return err
	}
	buf = append(buf, meta...)
	buf = append(buf, `,"items":`...)
	if list.Len() == 0 && !hasItems(list) {
		buf = append(buf, "null"...)
	} else {
		buf = append(buf, '[')
		first := true
		// Statuses the list deferred are built here, one object at a time.
		err := list.EachStatus(func(meta *metav1.ObjectMeta, status *certstatus.CertificateStatusStatus) error {
			if !first {
				buf = append(buf, ',')
			}
			first = false
			buf = c.appendObject(buf, meta, status, "")
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
		buf = append(buf, ']')
	}
	buf = append(buf, "}\n"...)
	*bp = buf[:0]
	_, err = w.Write(buf)
	return err
}

// hasItems tells an empty list (items: []) from one without items (null),
// as encoding/json does.
func hasItems(list computed.StatusList) bool {
	items, err := meta.GetItemsPtr(list)
	if err != nil {
		return true
	}
	return !reflect.ValueOf(items).Elem().IsNil()
}

// appendTypeMeta writes kind and apiVersion, each followed by a comma, as
// the conversion sets them on what it returns (not on list items).
func (c jsonCodec) appendTypeMeta(buf []byte, kind string) []byte {
	if kind == "" {
		return buf
	}
	buf = appendString(append(buf, `"kind":`...), kind)
	buf = appendString(append(buf, `,"apiVersion":`...), c.apiVersion)
	return append(buf, ',')
}

func (c jsonCodec) appendObject(buf []byte, meta *metav1.ObjectMeta, status *certstatus.CertificateStatusStatus, kind string) []byte {
	buf = append(buf, '{')
	buf = c.appendTypeMeta(buf, kind)
	buf = append(buf, `"metadata":`...)
	buf = appendObjectMeta(buf, meta)
	buf = append(buf, `,"status":`...)
	buf = appendStatus(buf, status)
	return append(buf, '}')
}

// ownMetadata tells whether m has only the fields certstatus sets (those
// appendObjectMeta writes); objects with others are left to encoding/json.
func ownMetadata(m *metav1.ObjectMeta) bool {
	return m.GenerateName == "" && m.SelfLink == "" && m.Generation == 0 && m.DeletionTimestamp == nil &&
		m.DeletionGracePeriodSeconds == nil && len(m.Annotations) == 0 && len(m.OwnerReferences) == 0 &&
		len(m.Finalizers) == 0 && len(m.ManagedFields) == 0
}

func appendObjectMeta(buf []byte, m *metav1.ObjectMeta) []byte {
	o := object{buf: append(buf, '{')}
	o.stringOmitEmpty("name", m.Name)
	o.stringOmitEmpty("namespace", m.Namespace)
	o.stringOmitEmpty("uid", string(m.UID))
	o.stringOmitEmpty("resourceVersion", m.ResourceVersion)
	if !m.CreationTimestamp.IsZero() {
		o.time("creationTimestamp", m.CreationTimestamp)
	}
	if len(m.Labels) > 0 {
		o.key("labels")
		o.buf = appendStringMap(o.buf, m.Labels)
	}
	return append(o.buf, '}')
}

func appendStatus(buf []byte, s *certstatus.CertificateStatusStatus) []byte {
	o := object{buf: append(buf, '{')}
	o.stringOmitEmpty("secretType", s.SecretType)
	o.strings("configMapKeys", s.ConfigMapKeys)
	if r := s.Source; r != nil {
		source := o.member("source")
		source.string("apiVersion", r.APIVersion)
		source.string("kind", r.Kind)
		source.string("name", r.Name)
		o.end(source)
	}
	o.stringOmitEmpty("state", string(s.State))
	o.timePointer("notBefore", s.NotBefore)
	o.timePointer("notAfter", s.NotAfter)
	o.timePointer("expiringSoonAt", s.ExpiringSoonAt)
	summary := o.member("summary")
	summary.int("certificates", s.Summary.Certificates)
	summary.int("valid", s.Summary.Valid)
	summary.int("expiringSoon", s.Summary.ExpiringSoon)
	summary.int("expired", s.Summary.Expired)
	summary.int("notYetValid", s.Summary.NotYetValid)
	o.end(summary)
	appendList(&o, "conditions", s.Conditions, appendCondition)
	if k := s.PrivateKey; k != nil {
		key := o.member("privateKey")
		key.bool("present", k.Present)
		key.stringOmitEmpty("type", k.Type)
		key.bool("matchesCertificate", k.MatchesCertificate)
		o.end(key)
	}
	chain := o.member("chain")
	chain.stringOmitEmpty("verified", string(s.Chain.Verified))
	chain.stringOmitEmpty("message", s.Chain.Message)
	o.end(chain)
	appendList(&o, "certificates", s.Certificates, appendCertificate)
	if m := s.CertManager; m != nil {
		ref := o.member("certManager")
		ref.stringOmitEmpty("certificate", m.Certificate)
		if is := m.Issuer; is != nil {
			issuer := ref.member("issuer")
			issuer.stringOmitEmpty("name", is.Name)
			issuer.stringOmitEmpty("kind", is.Kind)
			issuer.stringOmitEmpty("group", is.Group)
			ref.end(issuer)
		}
		o.end(ref)
	}
	appendList(&o, "usedBy", s.UsedBy, appendUsedBy)
	appendList(&o, "errors", s.Errors, appendError)
	return append(o.buf, '}')
}

func appendUsedBy(buf []byte, u *certstatus.UsedBy) []byte {
	o := object{buf: append(buf, '{')}
	o.string("kind", u.Kind)
	o.stringOmitEmpty("namespace", u.Namespace)
	o.string("name", u.Name)
	o.strings("hosts", u.Hosts)
	o.strings("hostsNotCovered", u.HostsNotCovered)
	if u.Pods != 0 {
		o.int("pods", u.Pods)
	}
	appendList(&o, "webhooks", u.Webhooks, appendWebhook)
	return append(o.buf, '}')
}

func appendWebhook(buf []byte, w *certstatus.Webhook) []byte {
	o := object{buf: append(buf, '{')}
	o.string("name", w.Name)
	o.stringOmitEmpty("failurePolicy", w.FailurePolicy)
	return append(o.buf, '}')
}

func appendError(buf []byte, e *certstatus.DataError) []byte {
	o := object{buf: append(buf, '{')}
	o.string("key", e.Key)
	o.string("message", e.Message)
	return append(o.buf, '}')
}

func appendCondition(buf []byte, c *metav1.Condition) []byte {
	o := object{buf: append(buf, '{')}
	o.string("type", c.Type)
	o.string("status", string(c.Status))
	if c.ObservedGeneration != 0 {
		o.key("observedGeneration")
		o.buf = strconv.AppendInt(o.buf, c.ObservedGeneration, 10)
	}
	o.time("lastTransitionTime", c.LastTransitionTime)
	o.string("reason", c.Reason)
	o.string("message", c.Message)
	return append(o.buf, '}')
}

func appendCertificate(buf []byte, c *certstatus.CertificateInfo) []byte {
	o := object{buf: append(buf, '{')}
	o.string("key", c.Key)
	o.int("index", c.Index)
	o.stringOmitEmpty("alias", c.Alias)
	o.string("role", string(c.Role))
	o.string("subject", c.Subject)
	o.stringOmitEmpty("commonName", c.CommonName)
	o.string("issuer", c.Issuer)
	// IssuerCommonName is internal: not served.
	o.string("serialNumber", c.SerialNumber)
	o.time("notBefore", c.NotBefore)
	o.time("notAfter", c.NotAfter)
	o.strings("dnsNames", c.DNSNames)
	o.strings("ipAddresses", c.IPAddresses)
	o.strings("uris", c.URIs)
	o.strings("emailAddresses", c.EmailAddresses)
	o.bool("isCA", c.IsCA)
	o.string("state", string(c.State))
	o.string("publicKeyAlgorithm", c.PublicKeyAlgorithm)
	if c.PublicKeySize != 0 {
		o.int("publicKeySize", c.PublicKeySize)
	}
	o.string("signatureAlgorithm", c.SignatureAlgorithm)
	o.strings("keyUsages", c.KeyUsages)
	o.strings("extKeyUsages", c.ExtKeyUsages)
	o.string("sha256Fingerprint", c.SHA256Fingerprint)
	o.stringOmitEmpty("subjectKeyId", c.SubjectKeyID)
	o.stringOmitEmpty("authorityKeyId", c.AuthorityKeyID)
	return append(o.buf, '}')
}

// object appends the members of one JSON object, commas included.
type object struct {
	buf  []byte
	more bool
}

// key writes `"name":`; names are plain ASCII, never escaped.
func (o *object) key(name string) {
	if o.more {
		o.buf = append(o.buf, ',')
	}
	o.more = true
	o.buf = append(o.buf, '"')
	o.buf = append(o.buf, name...)
	o.buf = append(o.buf, '"', ':')
}

func (o *object) string(name, value string) {
	o.key(name)
	o.buf = appendString(o.buf, value)
}

func (o *object) stringOmitEmpty(name, value string) {
	if value != "" {
		o.string(name, value)
	}
}

func (o *object) int(name string, value int32) {
	o.key(name)
	o.buf = strconv.AppendInt(o.buf, int64(value), 10)
}

func (o *object) bool(name string, value bool) {
	o.key(name)
	o.buf = strconv.AppendBool(o.buf, value)
}

// member starts an object-valued member; end closes it into o.
func (o *object) member(name string) object {
	o.key(name)
	return object{buf: append(o.buf, '{')}
}

func (o *object) end(member object) { o.buf = append(member.buf, '}') }

// appendList writes a list member, omitted when empty (omitempty), each
// item written by appendItem.
func appendList[T any](o *object, name string, items []T, appendItem func([]byte, *T) []byte) {
	if len(items) == 0 {
		return
	}
	o.key(name)
	o.buf = append(o.buf, '[')
	for i := range items {
		if i > 0 {
			o.buf = append(o.buf, ',')
		}
		o.buf = appendItem(o.buf, &items[i])
	}
	o.buf = append(o.buf, ']')
}

// strings writes a string list, omitted when empty (omitempty).
func (o *object) strings(name string, values []string) {
	appendList(o, name, values, func(buf []byte, v *string) []byte { return appendString(buf, *v) })
}

// time writes a metav1.Time as its MarshalJSON does: RFC 3339 in UTC, null when zero.
func (o *object) time(name string, t metav1.Time) {
	o.key(name)
	o.buf = appendTime(o.buf, t.Time)
}

// timePointer writes an omitempty *metav1.Time.
func (o *object) timePointer(name string, t *metav1.Time) {
	if t != nil {
		o.time(name, *t)
	}
}

func appendTime(buf []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(buf, "null"...)
	}
	buf = append(buf, '"')
	buf = t.UTC().AppendFormat(buf, time.RFC3339)
	return append(buf, '"')
}

// appendStringMap writes a map with its keys sorted, as encoding/json does.
func appendStringMap(buf []byte, m map[string]string) []byte {
	var scratch [16]string
	keys := scratch[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	buf = append(buf, '{')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendString(buf, k)
		buf = append(buf, ':')
		buf = appendString(buf, m[k])
	}
	return append(buf, '}')
}

// plain marks the bytes encoding/json copies unchanged into a string:
// printable ASCII other than the quote, the backslash and the characters it
// escapes for HTML (<, >, &).
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = false
	}
	return t
}()

// appendString writes s as a JSON string. Certificate fields are almost
// always plain ASCII; anything else is escaped by encoding/json itself, so
// the rules (control characters, invalid UTF-8, U+2028) stay its own.
func appendString(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !plain[s[i]] {
			return appendEscaped(buf, s)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}

func appendEscaped(buf []byte, s string) []byte {
	data, _ := json.Marshal(s) // a string always encodes
	return append(buf, data...)
}

// fillingCodec is the generic server's encoder for every other format
// (protobuf, YAML, CBOR, pretty JSON, other versions): it converts a whole
// list at once, so a list's statuses are built into a copy first.
type fillingCodec struct {
	runtime.Encoder
}

func (f fillingCodec) Encode(obj runtime.Object, w io.Writer) error {
	if list, ok := obj.(computed.StatusList); ok {
		obj = list.Built()
	}
	return f.Encoder.Encode(obj, w)
}
