package usedby

import (
	"slices"
	"strings"
	"unique"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// The kinds usedBy reports for objects that serve a Secret. An Istio
// Gateway is named with its group, as kubectl names it, because a Gateway
// API Gateway of the same namespace and name is a different object.
const (
	KindIngress      = "Ingress"
	KindGateway      = "Gateway"
	KindListenerSet  = "ListenerSet"
	KindIstioGateway = "Gateway.networking.istio.io"
	KindPod          = "Pod"
)

// AuthTLSSecretAnnotation is ingress-nginx's client CA Secret of an Ingress
// ("namespace/name", or a name in the Ingress's namespace).
const AuthTLSSecretAnnotation = "nginx.ingress.kubernetes.io/auth-tls-secret"

// SecretRef names a Secret.
type SecretRef struct {
	Namespace, Name string
}

// reference is one object's use of one Secret, with the hosts it serves
// with it (none for a client CA or a listener without a hostname).
type reference struct {
	secret SecretRef
	hosts  nameList
	// webhooks (API registrations only; nil otherwise) are the webhooks of a
	// webhook configuration the Secret serves: a pointer, so that the
	// references of Ingresses and Gateways grow by 8 B only.
	webhooks *[]certstatus.Webhook
}

// servingObject is all that is kept of an Ingress, a Gateway, a ListenerSet
// or an Istio Gateway: its name, kind, creationTimestamp (which dates
// HostsCovered) and the Secrets it references with their hosts.
type servingObject struct {
	compactMeta
	// kind is interned, like the namespace (8 B, not 16: the object then
	// fits 64 B).
	kind unique.Handle[string]
	// created is the creationTimestamp in Unix seconds, its precision.
	created int64
	refs    []reference
}

// keptPod is all that is kept of a Pod: its controller and the Secrets and
// ConfigMaps it mounts. A finished Pod (Succeeded, Failed) is kept without
// them: it no longer counts.
type keptPod struct {
	compactMeta
	ownerKind, ownerName string
	// mounts are the names of the Secrets and, marked with configMapMark,
	// of the ConfigMaps: one string, so that a Pod that mounts no ConfigMap
	// costs not a byte more than before ConfigMaps were tracked.
	mounts nameList
	// view is the transient view a PodListener gets (nil when none listens,
	// or the Pod can serve no registration). The Pods' store keeps the
	// fields above only, never this.
	view *PodView
}

// configMapMark starts a ConfigMap's name in keptPod.mounts. Neither a
// Secret's nor a ConfigMap's name can hold it (both are DNS subdomains).
const configMapMark = ":"

// addSecret and addConfigMap add the names of a Secret and of a ConfigMap
// the Pod uses (an invalid name is left out).
func (p *keptPod) addSecret(name string) {
	if !strings.Contains(name, configMapMark) {
		p.mounts.add(name)
	}
}

func (p *keptPod) addConfigMap(name string) {
	if name != "" && !strings.Contains(name, configMapMark) {
		p.mounts.add(configMapMark + name)
	}
}

// secrets yields the names of the Secrets the Pod uses.
func (p *keptPod) secrets() func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for name := range p.mounts.all() {
			if !strings.HasPrefix(name, configMapMark) && !yield(name) {
				return
			}
		}
	}
}

// configMaps yields the names of the ConfigMaps the Pod mounts.
func (p *keptPod) configMaps() func(yield func(string) bool) {
	return func(yield func(string) bool) {
		for name := range p.mounts.all() {
			if cm, ok := strings.CutPrefix(name, configMapMark); ok && !yield(cm) {
				return
			}
		}
	}
}

// nameList is a list of names joined by "/", which neither a Secret name
// nor a DNS host contains: the Secrets a Pod mounts, the hosts an object
// serves with one Secret. Almost every list has one name, and then this is
// the decoded name itself: no slice, no array beside it (≈ 32 B less per
// kept object than a []string).
type nameList string

// add appends name unless it is there already; a name with a "/" (no valid
// Secret name or host has one) is left out.
func (s *nameList) add(name string) {
	if name == "" || strings.Contains(name, "/") || s.contains(name) {
		return
	}
	if *s == "" {
		*s = nameList(name)
		return
	}
	*s += nameList("/" + name)
}

func (s nameList) contains(name string) bool {
	for n := range s.all() {
		if n == name {
			return true
		}
	}
	return false
}

// all yields each name.
func (s nameList) all() func(yield func(string) bool) {
	return func(yield func(string) bool) {
		if s == "" {
			return
		}
		for name := range strings.SplitSeq(string(s), "/") {
			if !yield(name) {
				return
			}
		}
	}
}

// list is the names as a slice (nil for none).
func (s nameList) list() []string {
	var names []string
	for name := range s.all() {
		names = append(names, name)
	}
	return names
}

// keptOwner is a ReplicaSet or a Job as seen through a metadata informer:
// only its own controller, to report Pods by their Deployment or CronJob.
type keptOwner struct {
	compactMeta
	kind                           string
	controllerKind, controllerName string
}

// The informer stores want runtime.Objects; the kept objects are
// immutable, so a deep copy is the object itself.
func (o *servingObject) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }
func (o *servingObject) DeepCopyObject() runtime.Object   { return o }
func (p *keptPod) GetObjectKind() schema.ObjectKind       { return schema.EmptyObjectKind }
func (p *keptPod) DeepCopyObject() runtime.Object         { return p }
func (o *keptOwner) GetObjectKind() schema.ObjectKind     { return schema.EmptyObjectKind }
func (o *keptOwner) DeepCopyObject() runtime.Object       { return o }

// shared interns the strings that recur across thousands of objects.
func shared(s string) string { return unique.Make(s).Value() }

func newCompactMeta(namespace, name string) compactMeta {
	return compactMeta{namespace: unique.Make(namespace), name: name}
}

// references accumulates an object's references, merging the hosts of
// repeated references to one Secret, in the order declared.
type references []reference

func (r *references) add(secret SecretRef, hosts ...string) {
	if secret.Name == "" {
		return
	}
	i := 0
	for ; i < len(*r) && (*r)[i].secret != secret; i++ {
	}
	if i == len(*r) {
		// Objects name the Secrets of a few namespaces: share them.
		secret.Namespace = shared(secret.Namespace)
		*r = append(*r, reference{secret: secret})
	}
	ref := &(*r)[i]
	for _, host := range hosts {
		ref.hosts.add(NormalizeHost(host))
	}
}

// transformIngress keeps an Ingress's TLS Secrets and hosts, and its
// ingress-nginx client CA Secret. Idempotent, like every transform here.
func transformIngress(obj interface{}) (interface{}, error) {
	ingress, ok := obj.(*networkingv1.Ingress)
	if !ok {
		return obj, nil
	}
	var refs references
	for _, tls := range ingress.Spec.TLS {
		refs.add(SecretRef{Namespace: ingress.Namespace, Name: tls.SecretName}, tls.Hosts...)
	}
	if value := ingress.Annotations[AuthTLSSecretAnnotation]; value != "" {
		refs.add(parseSecretRef(value, ingress.Namespace))
	}
	return newServingObject(KindIngress, &ingress.ObjectMeta, refs), nil
}

func newServingObject(kind string, meta metav1.Object, refs references) *servingObject {
	return &servingObject{
		compactMeta: newCompactMeta(meta.GetNamespace(), packStrings(meta.GetName(), refs)),
		kind:        unique.Make(kind),
		created:     meta.GetCreationTimestamp().Unix(),
		refs:        refs,
	}
}

// packStrings copies the Secret names and hosts of refs, and name, into one
// string they then slice, and returns the name. The decoder allocates each
// string on its own, rounded up to a size class: "ing-00000", "tls-00000"
// and "svc-00000.example.com" take 16 + 16 + 24 B apart, 48 B together.
// Objects are often named like the start of their Secret ("web",
// "web-tls") or host ("web.example.com"): the name then shares those bytes
// instead of adding its own.
func packStrings(name string, refs references) string {
	if len(refs) == 0 {
		return name
	}
	prefixOf := func(r *reference) string {
		switch {
		case strings.HasPrefix(r.secret.Name, name):
			return r.secret.Name
		case strings.HasPrefix(string(r.hosts), name):
			return string(r.hosts)
		}
		return ""
	}
	named := false
	size := 0
	for i := range refs {
		named = named || prefixOf(&refs[i]) != ""
		size += len(refs[i].secret.Name) + len(refs[i].hosts)
	}
	if !named {
		size += len(name)
	}
	var b strings.Builder
	b.Grow(size)
	for _, r := range refs {
		b.WriteString(r.secret.Name)
		b.WriteString(string(r.hosts))
	}
	if !named {
		b.WriteString(name)
	}
	packed := b.String()
	take := func(n int) string {
		s := packed[:n]
		packed = packed[n:]
		return s
	}
	for i := range refs {
		refs[i].secret.Name = take(len(refs[i].secret.Name))
		refs[i].hosts = nameList(take(len(refs[i].hosts)))
	}
	if !named {
		return take(len(name))
	}
	for i := range refs {
		if s := prefixOf(&refs[i]); s != "" {
			return s[:len(name)]
		}
	}
	return name
}

// parseSecretRef reads "namespace/name" or "name" (in namespace).
func parseSecretRef(value, namespace string) SecretRef {
	value = strings.TrimSpace(value)
	if ns, name, ok := strings.Cut(value, "/"); ok {
		return SecretRef{Namespace: ns, Name: name}
	}
	return SecretRef{Namespace: namespace, Name: value}
}

// transformPod keeps a Pod's controller and the Secrets it mounts as a
// secret volume or a projected source, or reads into the environment of a
// container or an init container (env[].valueFrom.secretKeyRef,
// envFrom[].secretRef): a certificate read at start-up breaks the Pod just
// as surely on its next restart. It keeps the ConfigMaps the Pod mounts as
// a configMap volume or a projected source too, except the service-account
// volume's (isServiceAccountCA). ConfigMaps read into the environment are
// not kept: a CA bundle is read from a file.
func transformPod(obj interface{}) (interface{}, error) {
	return keepPod(obj, false)
}

// podTransform is transformPod that also makes each Pod's PodView when
// views is set (a PodListener hears the Pods), in the same pass.
func podTransform(views bool) toolscache.TransformFunc {
	return func(obj interface{}) (interface{}, error) { return keepPod(obj, views) }
}

// keepPod is the Pod transform, with the Pod's view when views is set.
// Idempotent: a kept Pod passes through.
func keepPod(obj interface{}, views bool) (interface{}, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	kept := &keptPod{compactMeta: newCompactMeta(pod.Namespace, pod.Name)}
	if owner := metav1.GetControllerOfNoCopy(pod); owner != nil {
		kept.ownerKind, kept.ownerName = shared(owner.Kind), owner.Name
		// A controller names its Pods after itself ("web-5d8f7-x2k9q"):
		// share the name's bytes instead of keeping a second copy.
		if strings.HasPrefix(kept.name, owner.Name) {
			kept.ownerName = kept.name[:len(owner.Name)]
		}
	}
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return kept, nil
	}
	// mounted are the Secrets mounted as files, for the view only.
	var mounted []string
	mount := func(name string) {
		kept.addSecret(name)
		if views && name != "" && !slices.Contains(mounted, name) {
			mounted = append(mounted, name)
		}
	}
	for _, volume := range pod.Spec.Volumes {
		if volume.Secret != nil {
			mount(volume.Secret.SecretName)
		}
		if volume.ConfigMap != nil {
			kept.addConfigMap(volume.ConfigMap.Name)
		}
		if volume.Projected == nil {
			continue
		}
		for _, source := range volume.Projected.Sources {
			if source.Secret != nil {
				mount(source.Secret.Name)
			}
			if source.ConfigMap != nil && !isServiceAccountCA(volume.Projected, source.ConfigMap) {
				kept.addConfigMap(source.ConfigMap.Name)
			}
		}
	}
	for _, containers := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range containers {
			addEnvironmentSecrets(kept, &containers[i])
		}
	}
	if len(mounted) > 0 {
		kept.view = &PodView{Namespace: kept.GetNamespace(), Name: kept.name, Phase: pod.Status.Phase, Labels: pod.Labels, Secrets: mounted}
	}
	return kept, nil
}

// ServiceAccountCAConfigMap is the ConfigMap every namespace has with the
// cluster's CA, which the service-account volume projects.
const ServiceAccountCAConfigMap = "kube-root-ca.crt"

// isServiceAccountCA tells whether a projected ConfigMap is the
// service-account volume's CA: kube-root-ca.crt in a projected volume that
// also projects a service-account token. The ServiceAccount admission
// plugin gives every Pod that volume (kube-api-access-*), and a
// hand-written one of the same shape does the same job; counting it would
// make every workload a user of its namespace's kube-root-ca.crt. The shape
// is judged, not the name, which is only the plugin's convention; any other
// ConfigMap in such a volume, or kube-root-ca.crt mounted on its own, is a use.
func isServiceAccountCA(volume *corev1.ProjectedVolumeSource, configMap *corev1.ConfigMapProjection) bool {
	if configMap.Name != ServiceAccountCAConfigMap {
		return false
	}
	for _, source := range volume.Sources {
		if source.ServiceAccountToken != nil {
			return true
		}
	}
	return false
}

// addEnvironmentSecrets adds the Secrets a container reads into its environment.
func addEnvironmentSecrets(p *keptPod, container *corev1.Container) {
	for _, env := range container.Env {
		if env.ValueFrom != nil && env.ValueFrom.SecretKeyRef != nil {
			p.addSecret(env.ValueFrom.SecretKeyRef.Name)
		}
	}
	for _, from := range container.EnvFrom {
		if from.SecretRef != nil {
			p.addSecret(from.SecretRef.Name)
		}
	}
}

// ownerTransform keeps a ReplicaSet's or a Job's controller from its
// metadata.
func ownerTransform(kind string) func(interface{}) (interface{}, error) {
	return func(obj interface{}) (interface{}, error) {
		m, ok := obj.(*metav1.PartialObjectMetadata)
		if !ok {
			return obj, nil
		}
		kept := &keptOwner{compactMeta: newCompactMeta(m.Namespace, m.Name), kind: kind}
		if owner := metav1.GetControllerOfNoCopy(m); owner != nil {
			kept.controllerKind, kept.controllerName = shared(owner.Kind), owner.Name
		}
		return kept, nil
	}
}

// gatewayTransform keeps the Secrets a Gateway's or ListenerSet's listeners
// reference (tls.certificateRefs of kind Secret in the core group, in any
// namespace) with the listener's hostname.
func gatewayTransform(kind string) func(interface{}) (interface{}, error) {
	return func(obj interface{}) (interface{}, error) {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return obj, nil
		}
		var refs references
		listeners, _, _ := unstructured.NestedSlice(u.Object, "spec", "listeners")
		for _, l := range listeners {
			listener, ok := l.(map[string]interface{})
			if !ok {
				continue
			}
			hostname, _, _ := unstructured.NestedString(listener, "hostname")
			certificateRefs, _, _ := unstructured.NestedSlice(listener, "tls", "certificateRefs")
			for _, c := range certificateRefs {
				ref, ok := c.(map[string]interface{})
				if !ok {
					continue
				}
				group, _, _ := unstructured.NestedString(ref, "group")
				refKind, found, _ := unstructured.NestedString(ref, "kind")
				if group != "" || (found && refKind != "Secret") {
					continue
				}
				name, _, _ := unstructured.NestedString(ref, "name")
				namespace, _, _ := unstructured.NestedString(ref, "namespace")
				if namespace == "" {
					namespace = u.GetNamespace()
				}
				refs.add(SecretRef{Namespace: namespace, Name: name}, hostname)
			}
		}
		return newServingObject(kind, u, refs), nil
	}
}

// transformIstioGateway keeps the Secrets an Istio Gateway's servers name in
// tls.credentialName, with the servers' hosts. The Secret is looked up in
// the Gateway's namespace (Istio reads it from its gateway workload's
// namespace, which is where the Gateway usually lives).
func transformIstioGateway(obj interface{}) (interface{}, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	var refs references
	servers, _, _ := unstructured.NestedSlice(u.Object, "spec", "servers")
	for _, s := range servers {
		server, ok := s.(map[string]interface{})
		if !ok {
			continue
		}
		credential, _, _ := unstructured.NestedString(server, "tls", "credentialName")
		credential = strings.TrimPrefix(credential, "kubernetes://")
		if credential == "" || strings.Contains(credential, "/") {
			continue
		}
		declared, _, _ := unstructured.NestedStringSlice(server, "hosts")
		var hosts []string
		for _, host := range declared {
			// "namespace/host" selects routes by namespace; "*" is any host.
			if i := strings.LastIndex(host, "/"); i >= 0 {
				host = host[i+1:]
			}
			if host != "*" {
				hosts = append(hosts, host)
			}
		}
		refs.add(SecretRef{Namespace: u.GetNamespace(), Name: credential}, hosts...)
	}
	return newServingObject(KindIstioGateway, u, refs), nil
}
