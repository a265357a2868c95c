package usedby

import (
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// compactMeta is the metadata an informer store needs of an object we keep:
// its namespace and name (the store's key). A full metav1.ObjectMeta costs
// about 250 bytes before any string, more than the whole budget of a kept
// Pod, so the kept objects implement metav1.Object over these two fields;
// every other getter answers zero and every setter is ignored (the kept
// objects are immutable once transformed).
//
// The namespace is interned and kept as its unique.Handle: 8 B, not a 16 B
// string header, in every kept object.
type compactMeta struct {
	namespace unique.Handle[string]
	name      string
}

var _ metav1.Object = &compactMeta{}

func (m *compactMeta) GetNamespace() string                                       { return m.namespace.Value() }
func (m *compactMeta) SetNamespace(string)                                        {}
func (m *compactMeta) GetName() string                                            { return m.name }
func (m *compactMeta) SetName(string)                                             {}
func (m *compactMeta) GetGenerateName() string                                    { return "" }
func (m *compactMeta) SetGenerateName(string)                                     {}
func (m *compactMeta) GetUID() types.UID                                          { return "" }
func (m *compactMeta) SetUID(types.UID)                                           {}
func (m *compactMeta) GetResourceVersion() string                                 { return "" }
func (m *compactMeta) SetResourceVersion(string)                                  {}
func (m *compactMeta) GetGeneration() int64                                       { return 0 }
func (m *compactMeta) SetGeneration(int64)                                        {}
func (m *compactMeta) GetSelfLink() string                                        { return "" }
func (m *compactMeta) SetSelfLink(string)                                         {}
func (m *compactMeta) GetCreationTimestamp() metav1.Time                          { return metav1.Time{} }
func (m *compactMeta) SetCreationTimestamp(metav1.Time)                           {}
func (m *compactMeta) GetDeletionTimestamp() *metav1.Time                         { return nil }
func (m *compactMeta) SetDeletionTimestamp(*metav1.Time)                          {}
func (m *compactMeta) GetDeletionGracePeriodSeconds() *int64                      { return nil }
func (m *compactMeta) SetDeletionGracePeriodSeconds(*int64)                       {}
func (m *compactMeta) GetLabels() map[string]string                               { return nil }
func (m *compactMeta) SetLabels(map[string]string)                                {}
func (m *compactMeta) GetAnnotations() map[string]string                          { return nil }
func (m *compactMeta) SetAnnotations(map[string]string)                           {}
func (m *compactMeta) GetFinalizers() []string                                    { return nil }
func (m *compactMeta) SetFinalizers([]string)                                     {}
func (m *compactMeta) GetOwnerReferences() []metav1.OwnerReference                { return nil }
func (m *compactMeta) SetOwnerReferences([]metav1.OwnerReference)                 {}
func (m *compactMeta) GetManagedFields() []metav1.ManagedFieldsEntry              { return nil }
func (m *compactMeta) SetManagedFields(managedFields []metav1.ManagedFieldsEntry) {}
