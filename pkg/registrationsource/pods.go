package registrationsource

import (
	"context"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certstatus/certstatus/pkg/intern"
	"github.com/certstatus/certstatus/pkg/registrations"
	"github.com/certstatus/certstatus/pkg/usedby"
)

// Pods is what Trusted keeps of the Pods that can serve a registration:
// those that are not finished and mount at least one Secret. It holds no
// watch of its own: it is the usedby.PodListener of usedBy's Pod watch (one
// reflector per watched namespace), so certstatus watches Pods once. It
// only records and signals; Trust.run rebuilds.
type Pods struct {
	// namespaces are the watched namespaces (--namespaces); none: all.
	namespaces []string

	mu sync.Mutex
	// byNamespace holds each recorded Pod by namespace, then name.
	byNamespace map[string]map[string]podRecord
	// listed are the namespaces ("" for all) whose first list is in;
	// refused is set once RBAC refused a Pod read.
	listed  map[string]bool
	refused bool
	labels  intern.LabelSets

	// changed wakes Trust.run; pending signals coalesce.
	changed chan struct{}
	// settled is closed once every watched namespace was listed or a read
	// was refused: the registrations may start.
	settled     chan struct{}
	settledOnce sync.Once
}

// podRecord is one Pod as Trusted reads it. Its labels are shared with the
// other Pods of its workload (Pods of a ReplicaSet carry the same set); its
// Secrets' names are one string joined by "/", which no Secret name holds
// (most Pods mount one: then it is that name, with no slice beside it).
type podRecord struct {
	labels  *intern.LabelSet
	phase   corev1.PodPhase
	secrets string
}

var _ usedby.PodListener = &Pods{}

// NewPods returns the empty record of the Pods in namespaces (none: all),
// the namespaces the Secret cache holds too: a Pod elsewhere could only
// name a Secret that certstatus does not know.
func NewPods(namespaces []string) *Pods {
	return &Pods{
		namespaces:  slices.Clone(namespaces),
		byNamespace: map[string]map[string]podRecord{},
		listed:      map[string]bool{},
		changed:     make(chan struct{}, 1),
		settled:     make(chan struct{}),
	}
}

// Watched tells whether namespace's Pods (and Secrets) are watched.
func (p *Pods) Watched(namespace string) bool {
	return len(p.namespaces) == 0 || slices.Contains(p.namespaces, namespace)
}

func (p *Pods) record(view *usedby.PodView) podRecord {
	return podRecord{labels: p.labels.Share(view.Labels), phase: view.Phase, secrets: strings.Join(view.Secrets, "/")}
}

func (r podRecord) equal(o podRecord) bool {
	return r.labels == o.labels && r.phase == o.phase && r.secrets == o.secrets
}

// PodChanged records a Pod's view (nil: forgets it) and signals a change
// Trusted could see.
func (p *Pods) PodChanged(namespace, name string, view *usedby.PodView) {
	p.mu.Lock()
	old, had := p.byNamespace[namespace][name]
	changed := false
	switch {
	case view == nil && had:
		p.forget(namespace, name)
		changed = true
	case view != nil:
		r := p.record(view)
		if changed = !had || !old.equal(r); changed {
			p.put(namespace, name, r)
		}
	}
	p.mu.Unlock()
	if changed {
		p.signal()
	}
}

// PodsListed replaces what is recorded of namespace ("" for all) by views.
func (p *Pods) PodsListed(namespace string, views []*usedby.PodView) {
	p.mu.Lock()
	changed := false
	listed := map[string]map[string]bool{}
	for _, view := range views {
		if listed[view.Namespace] == nil {
			listed[view.Namespace] = map[string]bool{}
		}
		listed[view.Namespace][view.Name] = true
		r := p.record(view)
		if old, had := p.byNamespace[view.Namespace][view.Name]; !had || !old.equal(r) {
			p.put(view.Namespace, view.Name, r)
			changed = true
		}
	}
	for ns, names := range p.byNamespace {
		if namespace != metav1.NamespaceAll && ns != namespace {
			continue
		}
		for name := range names {
			if !listed[ns][name] {
				p.forget(ns, name)
				changed = true
			}
		}
	}
	p.listed[namespace] = true
	p.settleLocked()
	p.mu.Unlock()
	if changed {
		p.signal()
	}
}

// PodsRefused notes that RBAC refused a Pod read: the registrations stop
// waiting for Pods, and Trusted is Unknown where Pods decide (the refusal
// is counted and logged once by the Pod watch).
func (p *Pods) PodsRefused(string) {
	p.mu.Lock()
	p.refused = true
	p.settleLocked()
	p.mu.Unlock()
}

// settleLocked closes settled once every watched namespace was listed, or
// a read was refused. Called with p.mu held.
func (p *Pods) settleLocked() {
	done := p.refused
	if !done {
		done = true
		for _, namespace := range p.watchedNamespaces() {
			done = done && p.listed[namespace]
		}
	}
	if done {
		p.settledOnce.Do(func() { close(p.settled) })
	}
}

func (p *Pods) watchedNamespaces() []string {
	if len(p.namespaces) == 0 {
		return []string{metav1.NamespaceAll}
	}
	return p.namespaces
}

// waitSettled waits until every watched namespace was listed or a read
// was refused, or ctx ends.
func (p *Pods) waitSettled(ctx context.Context) {
	select {
	case <-p.settled:
	case <-ctx.Done():
	}
}

// put and forget change the record; called with p.mu held.
func (p *Pods) put(namespace, name string, r podRecord) {
	names := p.byNamespace[namespace]
	if names == nil {
		names = map[string]podRecord{}
		p.byNamespace[namespace] = names
	}
	names[name] = r
}

func (p *Pods) forget(namespace, name string) {
	names := p.byNamespace[namespace]
	delete(names, name)
	if len(names) == 0 {
		delete(p.byNamespace, namespace)
	}
}

func (p *Pods) signal() {
	select {
	case p.changed <- struct{}{}:
	default: // a signal is pending already
	}
}

// Pods are the namespace's recorded Pods, as serving-Secret discovery reads them.
func (p *Pods) Pods(namespace string) []registrations.Pod {
	p.mu.Lock()
	defer p.mu.Unlock()
	names := p.byNamespace[namespace]
	pods := make([]registrations.Pod, 0, len(names))
	for name, r := range names {
		pods = append(pods, registrations.Pod{Name: name, Phase: r.phase, Labels: r.labels.Map(), Secrets: strings.Split(r.secrets, "/")})
	}
	return pods
}

// len is how many Pods are recorded (tests).
func (p *Pods) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, names := range p.byNamespace {
		n += len(names)
	}
	return n
}
