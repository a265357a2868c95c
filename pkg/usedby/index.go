package usedby

import (
	"cmp"
	"slices"
	"sync"
	"time"
	"unique"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
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
	// Webhooks are, for a webhook configuration, those of its webhooks the
	// Secret serves, in the configuration's order.
	Webhooks []certstatus.Webhook
}

// objectKey names a kept object of one kind.
type objectKey struct {
	kind, namespace, name string
}

func (o *servingObject) key() objectKey {
	return objectKey{kind: o.kind.Value(), namespace: o.GetNamespace(), name: o.name}
}

// podOwner is what a Pod is counted under in its own namespace: its
// controller, or the Pod itself (kind Pod) when it has none. The kind is
// interned (8 B, not 16: a count, two of them, fits 64 B).
type podOwner struct {
	kind unique.Handle[string]
	name string
}

func newPodOwner(kind, name string) podOwner {
	return podOwner{kind: unique.Make(kind), name: name}
}

func ownerOf(p *keptPod) podOwner {
	if p.ownerKind == "" {
		return newPodOwner(KindPod, p.name)
	}
	return newPodOwner(p.ownerKind, p.ownerName)
}

// podCount is how many Pods of one owner mount a Secret, and the workload
// they are reported under (the owner's controller, see workloadOf) as it
// was when the snapshot holding the count was built. namespace is the
// Pods' and the Secret's, which the workload is reported in (it fits in
// the count's 64 B, where the decoration would need 8 B more).
type podCount struct {
	owner, workload podOwner
	namespace       unique.Handle[string]
	pods            int32
}

// servedRef is a serving object's reference to a Secret: object.refs[ref].
// An object has at most one reference per Secret (references.add merges).
type servedRef struct {
	object *servingObject
	ref    int32
}

// Users is a snapshot of one Secret's users (nil: none). It is never
// modified: the index replaces it on every change, so an object built from
// it (which the watch history may keep) goes on showing the users of its
// moment, and it is read without a lock. Slices, not maps: a Secret has few
// users (a handful of Ingresses, a few workloads), and a map costs hundreds
// of bytes even for one entry. Nearly every Secret is served by one object
// and mounted by no Pod: first is then all there is (24 B, where a pair of
// slices and the entry they hold took 64).
type Users struct {
	// first is the first serving entry; its object is nil when none serves
	// the Secret.
	first servedRef
	// more is nil when first is all.
	more *moreUsers
}

// moreUsers are the users of a Secret beyond its first serving object.
type moreUsers struct {
	pods    []podCount
	serving []servedRef // after first
}

// newUsers is a snapshot of these users (nil: none), with slices of its
// own (exact size; serving and pods are only read).
func newUsers(serving []servedRef, pods []podCount) *Users {
	if len(serving) == 0 && len(pods) == 0 {
		return nil
	}
	u := &Users{}
	if len(serving) > 0 {
		u.first, serving = serving[0], serving[1:]
	}
	if len(serving) > 0 || len(pods) > 0 {
		u.more = &moreUsers{pods: slices.Clone(pods), serving: slices.Clone(serving)}
	}
	return u
}

func (u *Users) empty() bool { return u == nil || u.first.object == nil && u.more == nil }

// served yields the serving entries.
func (u *Users) served() func(yield func(servedRef) bool) {
	return func(yield func(servedRef) bool) {
		if u == nil || u.first.object == nil || !yield(u.first) || u.more == nil {
			return
		}
		for _, s := range u.more.serving {
			if !yield(s) {
				return
			}
		}
	}
}

// pods are the Pod counts (shared: only read them).
func (u *Users) pods() []podCount {
	if u == nil || u.more == nil {
		return nil
	}
	return u.more.pods
}

// count is how many entries there are.
func (u *Users) count() int {
	if u.empty() {
		return 0
	}
	n := 0
	for range u.served() {
		n++
	}
	return n + len(u.pods())
}

// Index joins the kept objects into the Secrets they use, and tells its
// listener which Secrets' users changed (after releasing its lock, so the
// listener may call Users). It keeps no copy of the objects by their own
// key: the stores (objectStores, informers' stores) do, and hand the
// previous version of an object to each update and delete.
type Index struct {
	mu sync.Mutex
	// bySecret is by namespace, then Secret name: a change of a ReplicaSet
	// or Job then looks only at its namespace's Secrets, and the inner keys
	// are plain strings (map slots with large keys cost much per entry).
	bySecret usersByName
	// byConfigMap is the same for ConfigMaps, which only Pods use (mount).
	byConfigMap usersByName
	// controllerOf finds a ReplicaSet's or Job's own controller in the
	// metadata informers' stores; kept objects are not copied here.
	controllerOf func(kind, namespace, name string) (podOwner, bool)

	// changed and configMapsChanged hear which Secrets' and ConfigMaps'
	// users changed.
	changed, configMapsChanged func([]SecretRef)

	// registrations are the API registrations put (PutRegistration), by
	// kind and name: their previous version, as an informer's store would
	// hand it. registrationsMu orders their puts.
	registrationsMu sync.Mutex
	registrations   map[objectKey]*servingObject
}

// usersByName are the users of objects of one kind by namespace, then name.
type usersByName map[string]map[string]*Users

// NewIndex returns an empty index; changed (may be nil) hears which
// Secrets' users changed.
func NewIndex(changed func([]SecretRef)) *Index {
	return NewIndexWithConfigMaps(changed, nil)
}

// NewIndexWithConfigMaps is NewIndex whose configMapsChanged (may be nil)
// hears which ConfigMaps' users (the Pods mounting them) changed, named as
// SecretRefs are.
func NewIndexWithConfigMaps(changed, configMapsChanged func([]SecretRef)) *Index {
	none := func([]SecretRef) {}
	if changed == nil {
		changed = none
	}
	if configMapsChanged == nil {
		configMapsChanged = none
	}
	return &Index{
		bySecret:          usersByName{},
		byConfigMap:       usersByName{},
		controllerOf:      func(string, string, string) (podOwner, bool) { return podOwner{}, false },
		changed:           changed,
		configMapsChanged: configMapsChanged,
	}
}

// setControllerOf sets how owners' controllers are found (before any informer runs).
func (x *Index) setControllerOf(f func(kind, namespace, name string) (podOwner, bool)) {
	x.controllerOf = f
}

// lookup is a Secret's current snapshot (nil: no users). Called with x.mu held.
func (x *Index) lookup(secret SecretRef) *Users {
	return x.bySecret.lookup(secret)
}

func (m usersByName) lookup(ref SecretRef) *Users {
	return m[ref.Namespace][ref.Name]
}

// replace makes a new snapshot of these users of a Secret current, its
// Pods' workloads resolved afresh (serving and pods are copied, not kept).
// Called with x.mu held.
func (x *Index) replace(secret SecretRef, serving []servedRef, pods []podCount) {
	x.replaceIn(x.bySecret, secret, serving, pods)
}

// replaceIn is replace in the users of one kind of object.
func (x *Index) replaceIn(m usersByName, secret SecretRef, serving []servedRef, pods []podCount) {
	u := newUsers(serving, pods)
	for i := range u.pods() {
		count := &u.more.pods[i]
		count.workload = x.workloadOf(secret.Namespace, count.owner)
	}
	names := m[secret.Namespace]
	if u == nil {
		delete(names, secret.Name)
		if len(names) == 0 {
			delete(m, secret.Namespace)
		}
		return
	}
	if names == nil {
		names = map[string]*Users{}
		m[secret.Namespace] = names
	}
	names[secret.Name] = u
}

// Users is a Secret's users as of now (nil: none). The snapshot never
// changes: read it without a lock, keep it as long as needed.
func (x *Index) Users(secret SecretRef) *Users {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.lookup(secret)
}

// ConfigMapUsers is a ConfigMap's users as of now (nil: none), as Users.
func (x *Index) ConfigMapUsers(configMap SecretRef) *Users {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.byConfigMap.lookup(configMap)
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
			u := x.lookup(ref.secret)
			serving := slices.Collect(u.served())
			i := slices.IndexFunc(serving, func(s servedRef) bool { return s.object.key() == key })
			if i < 0 {
				continue
			}
			x.replace(ref.secret, slices.Delete(serving, i, i+1), u.pods())
			touched = appendSecret(touched, ref.secret)
		}
	}
	if current != nil {
		for i, ref := range current.refs {
			u := x.lookup(ref.secret)
			serving := append(slices.Collect(u.served()), servedRef{object: current, ref: int32(i)})
			x.replace(ref.secret, serving, u.pods())
			touched = appendSecret(touched, ref.secret)
		}
	}
	x.mu.Unlock()
	if len(touched) > 0 {
		x.changed(touched)
	}
}

// sameServing tells whether an update changed nothing usedBy shows.
func sameServing(a, b *servingObject) bool {
	if a.key() != b.key() || a.created != b.created || len(a.refs) != len(b.refs) {
		return false
	}
	for i := range a.refs {
		if a.refs[i].secret != b.refs[i].secret || a.refs[i].hosts != b.refs[i].hosts || !sameWebhooks(a.refs[i].webhooks, b.refs[i].webhooks) {
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
	if old != nil && current != nil && ownerOf(old) == ownerOf(current) && old.mounts == current.mounts {
		return
	}
	x.mu.Lock()
	var secrets, configMaps []SecretRef
	if old != nil {
		secrets = x.countPod(x.bySecret, old, old.secrets(), -1, secrets)
		configMaps = x.countPod(x.byConfigMap, old, old.configMaps(), -1, configMaps)
	}
	if current != nil {
		secrets = x.countPod(x.bySecret, current, current.secrets(), +1, secrets)
		configMaps = x.countPod(x.byConfigMap, current, current.configMaps(), +1, configMaps)
	}
	x.mu.Unlock()
	if len(secrets) > 0 {
		x.changed(secrets)
	}
	if len(configMaps) > 0 {
		x.configMapsChanged(configMaps)
	}
}

// countPod adds delta to the counts of the Pod's owner under each object of
// m (Secrets or ConfigMaps) it uses, names. Called with x.mu held.
func (x *Index) countPod(m usersByName, p *keptPod, names func(yield func(string) bool), delta int32, touched []SecretRef) []SecretRef {
	owner := ownerOf(p)
	for name := range names {
		secret := SecretRef{Namespace: p.GetNamespace(), Name: name}
		u := m.lookup(secret)
		pods := slices.Clone(u.pods())
		i := slices.IndexFunc(pods, func(c podCount) bool { return c.owner == owner })
		switch {
		case i >= 0:
			if pods[i].pods += delta; pods[i].pods <= 0 {
				pods = slices.Delete(pods, i, i+1)
			}
		case delta > 0:
			pods = append(pods, podCount{owner: owner, namespace: p.namespace, pods: delta})
		default:
			continue
		}
		x.replaceIn(m, secret, slices.Collect(u.served()), pods)
		touched = appendSecret(touched, secret)
	}
	return touched
}

// ownerChanged re-resolves the workloads of the Secrets mounted by the Pods
// of a ReplicaSet or Job whose own controller changed (old or current nil:
// none), and tells those whose users now read differently; the informer's
// store already holds the current version, which controllerOf reads. The
// previous snapshots stay as they were: objects built from them keep
// showing the workloads of their moment.
func (x *Index) ownerChanged(old, current *keptOwner) {
	if old != nil && current != nil && old.controllerKind == current.controllerKind && old.controllerName == current.controllerName {
		return
	}
	o := current
	if o == nil {
		o = old
	}
	owner := newPodOwner(o.kind, o.name)
	namespace := o.GetNamespace()
	x.mu.Lock()
	secrets := x.reresolve(x.bySecret, namespace, owner)
	configMaps := x.reresolve(x.byConfigMap, namespace, owner)
	x.mu.Unlock()
	if len(secrets) > 0 {
		x.changed(secrets)
	}
	if len(configMaps) > 0 {
		x.configMapsChanged(configMaps)
	}
}

// reresolve makes new snapshots of the objects of m in namespace that
// owner's Pods use whose workload now resolves differently, and returns
// them. Called with x.mu held.
func (x *Index) reresolve(m usersByName, namespace string, owner podOwner) []SecretRef {
	var touched []SecretRef
	for name, u := range m[namespace] {
		pods := u.pods()
		i := slices.IndexFunc(pods, func(c podCount) bool { return c.owner == owner })
		if i < 0 || x.workloadOf(namespace, owner) == pods[i].workload {
			continue
		}
		ref := SecretRef{Namespace: namespace, Name: name}
		x.replaceIn(m, ref, slices.Collect(u.served()), pods)
		touched = append(touched, ref)
	}
	return touched
}

// forgetKind drops every serving object of a kind (its CRD was removed).
func (x *Index) forgetKind(kind string) {
	x.mu.Lock()
	objects := map[objectKey]*servingObject{}
	for _, names := range x.bySecret {
		for _, u := range names {
			for s := range u.served() {
				if s.object.kind.Value() == kind {
					objects[s.object.key()] = s.object
				}
			}
		}
	}
	x.mu.Unlock()
	for _, o := range objects {
		x.putServing(o, nil)
	}
}

// list is the users of a Secret sorted by kind, namespace and name, Pods
// counted under their workload; nil for none.
func (u *Users) list() []User {
	if u.empty() {
		return nil
	}
	users := make([]User, 0, u.count())
	for s := range u.served() {
		object := s.object
		user := User{
			Kind: object.kind.Value(), Namespace: object.GetNamespace(), Name: object.name,
			Hosts: object.refs[s.ref].hosts.list(), Created: time.Unix(object.created, 0).UTC(),
		}
		if webhooks := object.refs[s.ref].webhooks; webhooks != nil {
			user.Webhooks = *webhooks
		}
		users = append(users, user)
	}
	workloads := len(users)
	for _, count := range u.pods() {
		// Two owners of one workload (a Deployment's ReplicaSets during a
		// rollout) are one user.
		if i := slices.IndexFunc(users[workloads:], func(user User) bool {
			return user.Kind == count.workload.kind.Value() && user.Name == count.workload.name
		}); i >= 0 {
			users[workloads+i].Pods += count.pods
			continue
		}
		kind := count.workload.kind.Value()
		user := User{Kind: kind, Namespace: count.namespace.Value(), Name: count.workload.name, Pods: count.pods}
		if kind == KindPod {
			user.Pods = 0
		}
		users = append(users, user)
	}
	slices.SortFunc(users, func(a, b User) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return users
}

// workloadOf is how Pods of owner are reported: a ReplicaSet or a Job by
// its own controller when it has one (a Deployment, a CronJob, or a
// custom controller), anything else as itself. Called with x.mu held.
func (x *Index) workloadOf(namespace string, owner podOwner) podOwner {
	if kind := owner.kind.Value(); kind != "ReplicaSet" && kind != "Job" {
		return owner
	}
	if controller, ok := x.controllerOf(owner.kind.Value(), namespace, owner.name); ok {
		return controller
	}
	return owner
}
