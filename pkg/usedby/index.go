package usedby

import (
	"sort"
	"sync"
	"time"
)

// User is one object using a Secret, as Index.UsedBy reports it.
type User struct {
	Kind, Namespace, Name string
	// Hosts are served with the Secret, normalized, in declared order.
	Hosts []string
	// Pods is how many of a workload's Pods mount the Secret; 0 for
	// objects that serve it and for a Pod without a controller.
	Pods int32
	// Created is the object's creationTimestamp (zero for workloads, whose
	// Pods declare no hosts): it dates HostsCovered, and is never served.
	Created time.Time
}

// objectKey names a kept object of one kind.
type objectKey struct {
	kind, namespace, name string
}

func (o *servingObject) key() objectKey {
	return objectKey{kind: o.kind.Value(), namespace: o.GetNamespace(), name: o.name}
}

// podOwner is what a Pod is counted under in its own namespace: its
// controller, or the Pod itself (kind Pod) when it has none.
type podOwner struct {
	kind, name string
}

func ownerOf(p *keptPod) podOwner {
	if p.ownerKind == "" {
		return podOwner{kind: KindPod, name: p.name}
	}
	return podOwner{kind: p.ownerKind, name: p.ownerName}
}

// podCount is how many Pods of one owner mount a Secret.
type podCount struct {
	owner podOwner
	pods  int32
}

// secretUsers are the users of one Secret. Slices, not maps: a Secret has
// few users (a handful of Ingresses, a few workloads), and a map costs
// hundreds of bytes even for one entry, which would dominate the memory
// kept per Pod.
type secretUsers struct {
	serving []*servingObject
	pods    []podCount
}

// Index joins the kept objects into the Secrets they use, and tells its
// listener which Secrets' users changed (after releasing its lock, so the
// listener may call UsedBy). It keeps no copy of the objects by their own
// key: the stores (objectStores, informers' stores) do, and hand the
// previous version of an object to each update and delete.
type Index struct {
	mu sync.Mutex
	// bySecret is by namespace, then Secret name: a change of a ReplicaSet
	// or Job then looks only at its namespace's Secrets, and the inner keys
	// are plain strings (map slots with large keys cost much per entry).
	bySecret map[string]map[string]*secretUsers
	// controllerOf finds a ReplicaSet's or Job's own controller in the
	// metadata informers' stores; kept objects are not copied here.
	controllerOf func(kind, namespace, name string) (podOwner, bool)

	changed func([]SecretRef)
}

// NewIndex returns an empty index; changed (may be nil) hears which
// Secrets' users changed.
func NewIndex(changed func([]SecretRef)) *Index {
	if changed == nil {
		changed = func([]SecretRef) {}
	}
	return &Index{
		bySecret:     map[string]map[string]*secretUsers{},
		controllerOf: func(string, string, string) (podOwner, bool) { return podOwner{}, false },
		changed:      changed,
	}
}

// SetChanged sets the listener (before any informer runs).
func (x *Index) SetChanged(changed func([]SecretRef)) { x.changed = changed }

// setControllerOf sets how owners' controllers are found (before any informer runs).
func (x *Index) setControllerOf(f func(kind, namespace, name string) (podOwner, bool)) {
	x.controllerOf = f
}

func (x *Index) users(secret SecretRef) *secretUsers {
	names := x.bySecret[secret.Namespace]
	if names == nil {
		names = map[string]*secretUsers{}
		x.bySecret[secret.Namespace] = names
	}
	u := names[secret.Name]
	if u == nil {
		u = &secretUsers{}
		names[secret.Name] = u
	}
	return u
}

func (x *Index) lookup(secret SecretRef) *secretUsers {
	return x.bySecret[secret.Namespace][secret.Name]
}

func (x *Index) dropIfEmpty(secret SecretRef) {
	names := x.bySecret[secret.Namespace]
	if u := names[secret.Name]; u != nil && len(u.serving) == 0 && len(u.pods) == 0 {
		delete(names, secret.Name)
		if len(names) == 0 {
			delete(x.bySecret, secret.Namespace)
		}
	}
}

// secretCount is the number of Secrets the index knows of users for.
func (x *Index) secretCount() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return nestedLen(x.bySecret)
}

// nestedLen counts the entries of a map by namespace, then name.
func nestedLen[V any](m map[string]map[string]V) int {
	n := 0
	for _, names := range m {
		n += len(names)
	}
	return n
}

// putServing replaces old (nil: none) by current (nil: deleted), both
// versions of one serving object as its informer had them.
func (x *Index) putServing(old, current *servingObject) {
	if old != nil && current != nil && sameServing(old, current) {
		return
	}
	x.mu.Lock()
	var touched []SecretRef
	if old != nil {
		key := old.key()
		for _, ref := range old.refs {
			u := x.users(ref.secret)
			for i, o := range u.serving {
				if o.key() == key {
					u.serving = deleteAt(u.serving, i)
					break
				}
			}
			x.dropIfEmpty(ref.secret)
			touched = appendSecret(touched, ref.secret)
		}
	}
	if current != nil {
		for _, ref := range current.refs {
			u := x.users(ref.secret)
			u.serving = append(u.serving, current)
			touched = appendSecret(touched, ref.secret)
		}
	}
	x.mu.Unlock()
	if len(touched) > 0 {
		x.changed(touched)
	}
}

// deleteAt removes element i without keeping the order (UsedBy sorts).
func deleteAt[T any](list []T, i int) []T {
	last := len(list) - 1
	list[i] = list[last]
	var zero T
	list[last] = zero
	if last == 0 {
		return nil
	}
	return list[:last]
}

// sameServing tells whether an update changed nothing usedBy shows.
func sameServing(a, b *servingObject) bool {
	if a.key() != b.key() || a.created != b.created || len(a.refs) != len(b.refs) {
		return false
	}
	for i := range a.refs {
		if a.refs[i].secret != b.refs[i].secret || a.refs[i].hosts != b.refs[i].hosts {
			return false
		}
	}
	return true
}

func appendSecret(list []SecretRef, secret SecretRef) []SecretRef {
	for _, s := range list {
		if s == secret {
			return list
		}
	}
	return append(list, secret)
}

// putPod replaces old (nil: none) by current (nil: deleted), both versions
// of one Pod as its informer had them.
func (x *Index) putPod(old, current *keptPod) {
	if old != nil && current != nil && ownerOf(old) == ownerOf(current) && old.secrets == current.secrets {
		return
	}
	x.mu.Lock()
	var touched []SecretRef
	if old != nil {
		touched = x.countPod(old, -1, touched)
	}
	if current != nil {
		touched = x.countPod(current, +1, touched)
	}
	x.mu.Unlock()
	if len(touched) > 0 {
		x.changed(touched)
	}
}

// countPod adds delta to the counts of the Pod's owner under each Secret it
// mounts. Called with x.mu held.
func (x *Index) countPod(p *keptPod, delta int32, touched []SecretRef) []SecretRef {
	owner := ownerOf(p)
	for name := range p.secrets.all() {
		secret := SecretRef{Namespace: p.GetNamespace(), Name: name}
		u := x.users(secret)
		i := 0
		for ; i < len(u.pods) && u.pods[i].owner != owner; i++ {
		}
		if i == len(u.pods) {
			u.pods = append(u.pods, podCount{owner: owner})
		}
		if u.pods[i].pods += delta; u.pods[i].pods <= 0 {
			u.pods = deleteAt(u.pods, i)
		}
		x.dropIfEmpty(secret)
		touched = appendSecret(touched, secret)
	}
	return touched
}

// ownerChanged tells the Secrets mounted by the Pods of a ReplicaSet or Job
// whose own controller changed (old or current nil: none); the informer's
// store already holds the current version, which controllerOf reads.
func (x *Index) ownerChanged(old, current *keptOwner) {
	if old != nil && current != nil && old.controllerKind == current.controllerKind && old.controllerName == current.controllerName {
		return
	}
	o := current
	if o == nil {
		o = old
	}
	owner := podOwner{kind: o.kind, name: o.name}
	x.mu.Lock()
	var touched []SecretRef
	for name, u := range x.bySecret[o.GetNamespace()] {
		for _, count := range u.pods {
			if count.owner == owner {
				touched = appendSecret(touched, SecretRef{Namespace: o.GetNamespace(), Name: name})
				break
			}
		}
	}
	x.mu.Unlock()
	if len(touched) > 0 {
		x.changed(touched)
	}
}

// forgetKind drops every serving object of a kind (its CRD was removed).
func (x *Index) forgetKind(kind string) {
	x.mu.Lock()
	objects := map[objectKey]*servingObject{}
	for _, names := range x.bySecret {
		for _, u := range names {
			for _, o := range u.serving {
				if o.kind.Value() == kind {
					objects[o.key()] = o
				}
			}
		}
	}
	x.mu.Unlock()
	for _, o := range objects {
		x.putServing(o, nil)
	}
}

// UsedBy lists the users of a Secret sorted by kind, namespace and name,
// Pods counted under their controlling workload.
func (x *Index) UsedBy(secret SecretRef) []User {
	x.mu.Lock()
	defer x.mu.Unlock()
	u := x.lookup(secret)
	if u == nil {
		return nil
	}
	users := make([]User, 0, len(u.serving)+len(u.pods))
	for _, object := range u.serving {
		user := User{Kind: object.kind.Value(), Namespace: object.GetNamespace(), Name: object.name, Created: time.Unix(object.created, 0).UTC()}
		for _, ref := range object.refs {
			if ref.secret == secret {
				user.Hosts = ref.hosts.list()
			}
		}
		users = append(users, user)
	}
	workloads := map[podOwner]int{}
	for _, count := range u.pods {
		workload := x.workloadOf(secret.Namespace, count.owner)
		if i, ok := workloads[workload]; ok {
			users[i].Pods += count.pods
			continue
		}
		workloads[workload] = len(users)
		user := User{Kind: workload.kind, Namespace: secret.Namespace, Name: workload.name, Pods: count.pods}
		if workload.kind == KindPod {
			user.Pods = 0
		}
		users = append(users, user)
	}
	sort.Slice(users, func(i, j int) bool {
		a, b := &users[i], &users[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	return users
}

// workloadOf is how Pods of owner are reported: a ReplicaSet or a Job by
// its own controller when it has one (a Deployment, a CronJob, or a
// custom controller), anything else as itself. Called with x.mu held.
func (x *Index) workloadOf(namespace string, owner podOwner) podOwner {
	if owner.kind != "ReplicaSet" && owner.kind != "Job" {
		return owner
	}
	if controller, ok := x.controllerOf(owner.kind, namespace, owner.name); ok {
		return controller
	}
	return owner
}
