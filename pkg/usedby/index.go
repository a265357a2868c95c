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
	// objects that serve it.
	Pods int32
	// Created is the object's creationTimestamp (zero for workloads, whose
	// Pods declare no hosts): it dates HostsCovered, and is never served.
	Created time.Time
}

// objectKey names a kept object of one kind.
type objectKey struct {
	kind, namespace, name string
}

// secretUsers are the kept objects that reference one Secret.
type secretUsers struct {
	serving map[objectKey]*servingObject
	pods    map[objectKey]*keptPod
}

func (s *secretUsers) empty() bool { return len(s.serving) == 0 && len(s.pods) == 0 }

// Index joins the kept objects into the Secrets they use. It is fed by the
// informers' handlers and tells its listener which Secrets' users changed
// (after releasing its lock, so the listener may call UsedBy).
type Index struct {
	mu       sync.Mutex
	bySecret map[SecretRef]*secretUsers
	// owners are the ReplicaSets and Jobs, to reach their Deployment or CronJob.
	owners map[objectKey]*keptOwner
	// podsByOwner are the Pods (that mount Secrets) of each ReplicaSet and
	// Job, so that an owner's change reaches their Secrets.
	podsByOwner map[objectKey]map[objectKey]*keptPod
	// current is the last version of every kept object that references
	// Secrets, to find the references an update or delete removes.
	serving map[objectKey]*servingObject
	pods    map[objectKey]*keptPod

	changed func([]SecretRef)
}

// NewIndex returns an empty index; changed (may be nil) hears which
// Secrets' users changed.
func NewIndex(changed func([]SecretRef)) *Index {
	if changed == nil {
		changed = func([]SecretRef) {}
	}
	return &Index{
		bySecret:    map[SecretRef]*secretUsers{},
		owners:      map[objectKey]*keptOwner{},
		podsByOwner: map[objectKey]map[objectKey]*keptPod{},
		serving:     map[objectKey]*servingObject{},
		pods:        map[objectKey]*keptPod{},
		changed:     changed,
	}
}

// SetChanged sets the listener (before any informer runs).
func (x *Index) SetChanged(changed func([]SecretRef)) { x.changed = changed }

func (x *Index) users(secret SecretRef) *secretUsers {
	u := x.bySecret[secret]
	if u == nil {
		u = &secretUsers{serving: map[objectKey]*servingObject{}, pods: map[objectKey]*keptPod{}}
		x.bySecret[secret] = u
	}
	return u
}

func (x *Index) dropIfEmpty(secret SecretRef) {
	if u := x.bySecret[secret]; u != nil && u.empty() {
		delete(x.bySecret, secret)
	}
}

// putServing records the current version of a serving object; nil deletes it.
func (x *Index) putServing(key objectKey, object *servingObject) {
	x.mu.Lock()
	old := x.serving[key]
	if old != nil && object != nil && sameServing(old, object) {
		x.mu.Unlock()
		return
	}
	var touched []SecretRef
	if old != nil {
		for _, ref := range old.refs {
			delete(x.users(ref.secret).serving, key)
			x.dropIfEmpty(ref.secret)
			touched = appendSecret(touched, ref.secret)
		}
		delete(x.serving, key)
	}
	if object != nil && len(object.refs) > 0 {
		x.serving[key] = object
		for _, ref := range object.refs {
			x.users(ref.secret).serving[key] = object
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
	if a.created != b.created || len(a.refs) != len(b.refs) {
		return false
	}
	for i := range a.refs {
		if a.refs[i].secret != b.refs[i].secret || !equalStrings(a.refs[i].hosts, b.refs[i].hosts) {
			return false
		}
	}
	return true
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
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

// putPod records the current version of a Pod; nil deletes it.
func (x *Index) putPod(key objectKey, pod *keptPod) {
	x.mu.Lock()
	old := x.pods[key]
	if old != nil && pod != nil && old.ownerKind == pod.ownerKind && old.ownerName == pod.ownerName && equalStrings(old.secrets, pod.secrets) {
		x.mu.Unlock()
		return
	}
	var touched []SecretRef
	if old != nil {
		for _, name := range old.secrets {
			secret := SecretRef{Namespace: key.namespace, Name: name}
			delete(x.users(secret).pods, key)
			x.dropIfEmpty(secret)
			touched = appendSecret(touched, secret)
		}
		if owner, ok := trackedOwner(old); ok {
			delete(x.podsByOwner[owner], key)
			if len(x.podsByOwner[owner]) == 0 {
				delete(x.podsByOwner, owner)
			}
		}
		delete(x.pods, key)
	}
	if pod != nil && len(pod.secrets) > 0 {
		x.pods[key] = pod
		for _, name := range pod.secrets {
			secret := SecretRef{Namespace: key.namespace, Name: name}
			x.users(secret).pods[key] = pod
			touched = appendSecret(touched, secret)
		}
		if owner, ok := trackedOwner(pod); ok {
			if x.podsByOwner[owner] == nil {
				x.podsByOwner[owner] = map[objectKey]*keptPod{}
			}
			x.podsByOwner[owner][key] = pod
		}
	}
	x.mu.Unlock()
	if len(touched) > 0 {
		x.changed(touched)
	}
}

// trackedOwner is a Pod's ReplicaSet or Job, whose own controller decides
// how the Pod is reported.
func trackedOwner(pod *keptPod) (objectKey, bool) {
	if pod.ownerKind != "ReplicaSet" && pod.ownerKind != "Job" {
		return objectKey{}, false
	}
	return objectKey{kind: pod.ownerKind, namespace: pod.namespace, name: pod.ownerName}, true
}

// putOwner records a ReplicaSet or Job; nil deletes it.
func (x *Index) putOwner(key objectKey, owner *keptOwner) {
	x.mu.Lock()
	old := x.owners[key]
	if old != nil && owner != nil && old.controllerKind == owner.controllerKind && old.controllerName == owner.controllerName {
		x.mu.Unlock()
		return
	}
	if owner == nil {
		delete(x.owners, key)
	} else {
		x.owners[key] = owner
	}
	var touched []SecretRef
	for _, pod := range x.podsByOwner[key] {
		for _, name := range pod.secrets {
			touched = appendSecret(touched, SecretRef{Namespace: key.namespace, Name: name})
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
	var keys []objectKey
	for key := range x.serving {
		if key.kind == kind {
			keys = append(keys, key)
		}
	}
	x.mu.Unlock()
	for _, key := range keys {
		x.putServing(key, nil)
	}
}

// UsedBy lists the users of a Secret sorted by kind, namespace and name,
// Pods counted under their controlling workload.
func (x *Index) UsedBy(secret SecretRef) []User {
	x.mu.Lock()
	defer x.mu.Unlock()
	u := x.bySecret[secret]
	if u == nil {
		return nil
	}
	users := make([]User, 0, len(u.serving)+1)
	for key, object := range u.serving {
		user := User{Kind: key.kind, Namespace: key.namespace, Name: key.name, Created: time.Unix(object.created, 0).UTC()}
		for _, ref := range object.refs {
			if ref.secret == secret {
				user.Hosts = ref.hosts
			}
		}
		users = append(users, user)
	}
	workloads := map[objectKey]int{}
	for key, pod := range u.pods {
		workload := x.workloadOf(key, pod)
		if i, ok := workloads[workload]; ok {
			users[i].Pods++
			continue
		}
		workloads[workload] = len(users)
		user := User{Kind: workload.kind, Namespace: workload.namespace, Name: workload.name, Pods: 1}
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

// workloadOf is how a Pod is reported: by its controller, a ReplicaSet or
// a Job by its own controller when it has one (a Deployment, a CronJob, or
// a custom controller), and a Pod without a controller as itself. Called
// with x.mu held.
func (x *Index) workloadOf(key objectKey, pod *keptPod) objectKey {
	if pod.ownerKind == "" {
		return objectKey{kind: KindPod, namespace: key.namespace, name: key.name}
	}
	workload := objectKey{kind: pod.ownerKind, namespace: key.namespace, name: pod.ownerName}
	if owner := x.owners[workload]; owner != nil && owner.controllerKind != "" {
		return objectKey{kind: owner.controllerKind, namespace: key.namespace, name: owner.controllerName}
	}
	return workload
}
