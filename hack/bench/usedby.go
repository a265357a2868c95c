package main

// The usedBy figures (issue 15): Ingresses and Pods that use the bench
// Secrets, stored by kube-apiserver (no kubelet runs them, and the stack's
// kube-controller-manager runs no Deployment, ReplicaSet or garbage
// collector controller, so the owner references written here stay as
// written: Pod → ReplicaSet → Deployment, as a Deployment's Pods have).

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/utils/ptr"

	"github.com/certstatus/certstatus/generated/clientset/versioned"
	"github.com/certstatus/certstatus/hack/internal/measure"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
)

// podsPerDeployment is how many Pods each bench Deployment has (through one
// ReplicaSet), all mounting the Deployment's Secret.
const podsPerDeployment = 3

// usedByFigure is everything the usedby step measured.
type usedByFigure struct {
	Ingresses   int `json:"ingresses"`
	Pods        int `json:"pods"`
	Deployments int `json:"deployments"`
	// Memory after a forced GC: with the Secrets only, then with the
	// Ingresses, then with the Deployments' ReplicaSets and Pods as well;
	// each after History changes of filler Secrets refilled the watch
	// history (see refillHistory), so their differences exclude it.
	Base          memory `json:"base"`
	WithIngresses memory `json:"withIngresses"`
	WithPods      memory `json:"withPods"`
	// History is the watch history's bound, which each refill wrote; 0 in
	// results from before the refill existed.
	History int `json:"history,omitempty"`
	// IngressesLoaded and PodsLoaded are measured right after each load,
	// before the refill: the history then holds the load's own changes
	// (its Secrets' MODIFIED events and the versions they replaced).
	IngressesLoaded memory `json:"ingressesLoaded"`
	PodsLoaded      memory `json:"podsLoaded"`
	// IngressLoad and PodLoad: from the first create until certstatus
	// lists every one of them in usedBy.
	IngressLoad time.Duration `json:"ingressLoad"`
	PodLoad     time.Duration `json:"podLoad"`
	// Lists with everything present, against kubectl get secrets -A.
	Lists []comparison `json:"lists"`
	// Restarts with everything present: /readyz, Available (through the
	// aggregator), and usedBy complete (every Ingress and Pod counted).
	Ready     stats `json:"ready"`
	Available stats `json:"available"`
	Complete  stats `json:"complete"`
	// IngressChange: from just before an Ingress PATCH to the MODIFIED of
	// its Secret's CertificateStatus at a watcher through the aggregator.
	IngressChange stats         `json:"ingressChange"`
	ChangesMissed int           `json:"changesMissed"`
	Rollout       rolloutFigure `json:"rollout"`
}

// rolloutFigure: every Pod of one Deployment replaced, one new Pod created
// and one old Pod deleted at a time (maxSurge 1, maxUnavailable 0).
type rolloutFigure struct {
	Pods int `json:"pods"`
	// Writes is the number of Pod creations and deletions.
	Writes int `json:"writes"`
	// Modified counts MODIFIED events of the Secret's CertificateStatus, Other
	// those of any other object (there should be none).
	Modified int           `json:"modified"`
	Other    int           `json:"other"`
	Duration time.Duration `json:"duration"`
	// CPU is each process's CPU time over the whole rollout.
	CPU []processCPU `json:"cpu"`
}

// usedByFigures is the usedby step: load Ingresses and then Deployments'
// Pods beside the Secrets, measure memory, lists, restarts, the delay of an
// Ingress change and a rollout's churn.
func (b *bench) usedByFigures(ctx context.Context) error {
	// Every mix names and namespaces its Secrets alike and gives leaf i the
	// same DNS names, so the first mix's list fits whichever is loaded.
	secrets, err := loadOrGenerate(b.o.mixes[0], b.o.secrets, logf)
	if err != nil {
		return err
	}
	f := &usedByFigure{Ingresses: b.o.ingresses, Deployments: b.o.pods / podsPerDeployment}
	f.Pods = f.Deployments * podsPerDeployment
	b.res.UsedBy = f
	direct, err := b.directTypedClient()
	if err != nil {
		return err
	}
	f.History = b.historyBound()
	// refilled is the memory after refilling the history, checked full.
	refilled := func(what string) (memory, error) {
		m, length, err := b.serverMemoryRefilled(ctx, f.History)
		if err == nil && length != f.History {
			logf("usedby: the watch history holds %d changes %s, not its bound %d: the figures include the difference", length, what, f.History)
		}
		return m, err
	}
	if f.Base, err = refilled("with the Secrets only"); err != nil {
		return err
	}
	// Heap profiles before and after the Ingresses: `go tool pprof -base`
	// shows what each Ingress costs (run the server with
	// GODEBUG=memprofilerate=1 for every allocation).
	if err := b.saveProfile(ctx, "/debug/pprof/heap", "heap-usedby-base.pprof"); err != nil {
		logf("heap profile: %v", err)
	}

	begin := time.Now()
	if err := parallelN(ctx, 16, f.Ingresses, func(i int) error {
		_, err := b.kube.NetworkingV1().Ingresses(secrets[i%len(secrets)].Namespace).Create(ctx, benchIngress(i, secrets[i%len(secrets)]), metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	}); err != nil {
		return fmt.Errorf("create Ingresses: %w", err)
	}
	if err := waitUsedBy(ctx, direct, f.Ingresses, 0, 3*time.Minute); err != nil {
		return err
	}
	f.IngressLoad = time.Since(begin)
	if f.IngressesLoaded, err = b.serverMemory(ctx); err != nil {
		return err
	}
	if f.WithIngresses, err = refilled("with the Ingresses"); err != nil {
		return err
	}
	if err := b.saveProfile(ctx, "/debug/pprof/heap", "heap-usedby-ingresses.pprof"); err != nil {
		logf("heap profile: %v", err)
	}
	logf("usedby: %d Ingresses in usedBy %v after the first create; live heap %.0f B per Ingress, history refilled (%s before the refill), heap in use %s",
		f.Ingresses, f.IngressLoad.Round(time.Millisecond), f.perIngress(),
		measure.MiB(f.IngressesLoaded.HeapAlloc), measure.MiB(f.WithIngresses.HeapInuse))

	begin = time.Now()
	if err := parallelN(ctx, 16, f.Deployments, func(j int) error {
		_, err := b.createDeployment(ctx, secrets[j%len(secrets)], fmt.Sprintf("app-%05d", j), podsPerDeployment)
		return err
	}); err != nil {
		return fmt.Errorf("create Deployments: %w", err)
	}
	if err := waitUsedBy(ctx, direct, f.Ingresses, f.Pods, 5*time.Minute); err != nil {
		return err
	}
	f.PodLoad = time.Since(begin)
	if f.PodsLoaded, err = b.serverMemory(ctx); err != nil {
		return err
	}
	if f.WithPods, err = refilled("with the Pods"); err != nil {
		return err
	}
	logf("usedby: %d Pods of %d Deployments in usedBy %v after the first create; live heap %.0f B per Pod, history refilled (%s before the refill), heap in use %s",
		f.Pods, f.Deployments, f.PodLoad.Round(time.Millisecond), f.perPod(),
		measure.MiB(f.PodsLoaded.HeapAlloc), measure.MiB(f.WithPods.HeapInuse))
	if err := b.saveProfile(ctx, "/debug/pprof/heap", "heap-usedby.pprof"); err != nil {
		logf("heap profile: %v", err)
	}

	for _, l := range [][2][]string{
		{{"get", "cst", "-A"}, {"get", "secrets", "-A"}},
		{{"get", "cst", "-A", "-o", "wide"}, {"get", "secrets", "-A", "-o", "wide"}},
	} {
		c, err := b.kubectlPair(ctx, "kubectl "+l[0][len(l[0])-1]+", everything present", l[0], l[1])
		if err != nil {
			return err
		}
		c.Name = "kubectl table, all namespaces"
		if len(l[0]) > 3 {
			c.Name = "kubectl -o wide (USED BY column), all namespaces"
		}
		b.logComparison(c)
		f.Lists = append(f.Lists, c)
	}
	if err := b.ingressChanges(ctx, f, secrets); err != nil {
		return fmt.Errorf("Ingress changes: %w", err)
	}
	if err := b.rollout(ctx, f, secrets[0]); err != nil {
		return fmt.Errorf("rollout: %w", err)
	}
	return b.usedByStartup(ctx, f, direct)
}

// benchIngress serves the Secret's leaf name (covered: no Event, no
// HostsCovered=False).
func benchIngress(i int, s *benchSecret) *networkingv1.Ingress {
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ing-%05d", i), Namespace: s.Namespace, Labels: map[string]string{"app.kubernetes.io/part-of": "certstatus-bench"}},
		Spec: networkingv1.IngressSpec{
			TLS: []networkingv1.IngressTLS{{SecretName: s.Name, Hosts: []string{leafHost(s)}}},
			Rules: []networkingv1.IngressRule{{Host: leafHost(s), IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{Path: "/", PathType: ptr.To(networkingv1.PathTypePrefix), Backend: networkingv1.IngressBackend{
					Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 443}},
				}}},
			}}}},
		},
	}
}

// leafHost is the common name certtest.GenerateMix gives Secret tls-NNNNN
// (also a DNS SAN, beside svc-NNNNN.svc).
func leafHost(s *benchSecret) string {
	var i int
	_, _ = fmt.Sscanf(s.Name, "tls-%d", &i)
	return fmt.Sprintf("svc-%05d.example.com", i)
}

func podTemplate(secret string, labels map[string]string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels},
		Spec: corev1.PodSpec{
			AutomountServiceAccountToken: ptr.To(false),
			Containers:                   []corev1.Container{{Name: "app", Image: "registry.example.com/app:1"}},
			Volumes:                      []corev1.Volume{{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}}},
		},
	}
}

func controller(apiVersion, kind, name string, uid types.UID) []metav1.OwnerReference {
	return []metav1.OwnerReference{{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}
}

// createDeployment writes what the Deployment and ReplicaSet controllers
// would: the Deployment, one ReplicaSet owned by it and pods Pods owned by
// the ReplicaSet, each mounting the Secret. It returns the ReplicaSet.
func (b *bench) createDeployment(ctx context.Context, s *benchSecret, name string, pods int) (*appsv1.ReplicaSet, error) {
	labels := map[string]string{"app": name}
	d, err := b.kube.AppsV1().Deployments(s.Namespace).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(pods)), Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: podTemplate(s.Name, labels),
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("create Deployment %s/%s: %w", s.Namespace, name, err)
	}
	rs, err := b.createReplicaSet(ctx, d, s, "1")
	if err != nil {
		return nil, err
	}
	for k := range pods {
		if err := b.createPod(ctx, rs, s, k); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

func (b *bench) createReplicaSet(ctx context.Context, d *appsv1.Deployment, s *benchSecret, hash string) (*appsv1.ReplicaSet, error) {
	labels := map[string]string{"app": d.Name, "pod-template-hash": hash}
	rs, err := b.kube.AppsV1().ReplicaSets(d.Namespace).Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: d.Name + "-" + hash, Labels: labels, OwnerReferences: controller("apps/v1", "Deployment", d.Name, d.UID)},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: d.Spec.Replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: podTemplate(s.Name, labels),
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("create ReplicaSet %s/%s-%s: %w", d.Namespace, d.Name, hash, err)
	}
	return rs, nil
}

func (b *bench) createPod(ctx context.Context, rs *appsv1.ReplicaSet, s *benchSecret, k int) error {
	t := podTemplate(s.Name, rs.Spec.Selector.MatchLabels)
	_, err := b.kube.CoreV1().Pods(rs.Namespace).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", rs.Name, k), Labels: t.Labels, OwnerReferences: controller("apps/v1", "ReplicaSet", rs.Name, rs.UID)},
		Spec:       t.Spec,
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create Pod %s/%s-%d: %w", rs.Namespace, rs.Name, k, err)
	}
	return nil
}

// usedByTotals lists every bench CertificateStatus and counts the
// Ingresses and the Pods (of workloads) in their usedBy.
func usedByTotals(ctx context.Context, client versioned.Interface) (ingresses, pods int, err error) {
	list, err := client.CertstatusV1alpha1().CertificateStatuses("").List(ctx, metav1.ListOptions{LabelSelector: benchLabel})
	if err != nil {
		return 0, 0, err
	}
	for _, cs := range list.Items {
		for _, u := range cs.Status.UsedBy {
			if u.Kind == "Ingress" {
				ingresses++
			}
			pods += int(u.Pods)
		}
	}
	return ingresses, pods, nil
}

// waitUsedBy waits until the bench CertificateStatuses name at least the
// given Ingresses and Pods (lists back to back).
func waitUsedBy(ctx context.Context, client versioned.Interface, ingresses, pods int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var gotI, gotP int
	var err error
	for {
		if gotI, gotP, err = usedByTotals(ctx, client); err == nil && gotI >= ingresses && gotP >= pods {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for usedBy to name %d Ingresses and %d Pods (last %d and %d, error %v): %w", ingresses, pods, gotI, gotP, err, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// watchStatuses opens a watch of all CertificateStatuses through the
// aggregator from the current resourceVersion.
func (b *bench) watchStatuses(ctx context.Context) (watch.Interface, error) {
	client, err := b.watchClient()
	if err != nil {
		return nil, err
	}
	// An empty namespace's list gives the current resourceVersion cheaply.
	list, err := client.CertstatusV1alpha1().CertificateStatuses("certstatus-bench-none").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	return client.CertstatusV1alpha1().CertificateStatuses("").Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
}

// ingressChanges patches one Ingress's hosts (alternating between one and
// two of its leaf's names, so usedBy changes every time) and times each
// MODIFIED of its Secret's CertificateStatus.
func (b *bench) ingressChanges(ctx context.Context, f *usedByFigure, secrets []*benchSecret) error {
	if f.Ingresses == 0 || b.o.usedByChanges == 0 {
		return nil
	}
	s := secrets[0]
	w, err := b.watchStatuses(ctx)
	if err != nil {
		return err
	}
	defer w.Stop()
	var delays []time.Duration
	for i := range b.o.usedByChanges {
		hosts := []string{leafHost(s)}
		if i%2 == 0 {
			hosts = append(hosts, strings.TrimSuffix(leafHost(s), ".example.com")+".svc") // the leaf's other DNS name
		}
		tls, err := json.Marshal([]networkingv1.IngressTLS{{SecretName: s.Name, Hosts: hosts}})
		if err != nil {
			return err
		}
		patch := `{"spec":{"tls":` + string(tls) + `}}`
		begin := time.Now()
		if _, err := b.kube.NetworkingV1().Ingresses(s.Namespace).Patch(ctx, "ing-00000", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			return err
		}
		if d, ok := awaitModified(ctx, w, s.Namespace, s.Name, begin, func(cs *v1alpha1.CertificateStatus) bool {
			for _, u := range cs.Status.UsedBy {
				if u.Kind == "Ingress" && u.Name == "ing-00000" {
					return len(u.Hosts) == len(hosts)
				}
			}
			return false
		}); ok {
			delays = append(delays, d)
		} else {
			f.ChangesMissed++
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.IngressChange = summarize(delays)
	logf("usedby: Ingress change → MODIFIED: median %v, p90 %v, max %v (%d changes, %d missed)",
		f.IngressChange.Median.Round(time.Millisecond), f.IngressChange.P90.Round(time.Millisecond), f.IngressChange.Max.Round(time.Millisecond), len(delays), f.ChangesMissed)
	return nil
}

// awaitModified waits (up to 10 s) for a MODIFIED of namespace/name that
// satisfies done; it returns the delay since begin.
func awaitModified(ctx context.Context, w watch.Interface, namespace, name string, begin time.Time, done func(*v1alpha1.CertificateStatus) bool) (time.Duration, bool) {
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, open := <-w.ResultChan():
			if !open {
				return 0, false
			}
			cs, ok := ev.Object.(*v1alpha1.CertificateStatus)
			if ok && ev.Type == watch.Modified && cs.Namespace == namespace && cs.Name == name && done(cs) {
				return time.Since(begin), true
			}
		case <-timeout:
			return 0, false
		case <-ctx.Done():
			return 0, false
		}
	}
}

// rollout replaces every Pod of a Deployment of --rollout-pods Pods
// mounting one Secret, one Pod at a time (new Pod created, then an old one
// deleted), and counts the MODIFIED events and the CPU it cost.
func (b *bench) rollout(ctx context.Context, f *usedByFigure, s *benchSecret) error {
	n := b.o.rolloutPods
	if n == 0 {
		return nil
	}
	r := &f.Rollout
	r.Pods = n
	const name = "rollout"
	old, err := b.createDeployment(ctx, s, name, n)
	if err != nil {
		return err
	}
	direct, err := b.directTypedClient()
	if err != nil {
		return err
	}
	hasPods := func(count int32) func() bool {
		return func() bool {
			cs, err := direct.CertstatusV1alpha1().CertificateStatuses(s.Namespace).Get(ctx, s.Name, metav1.GetOptions{})
			if err != nil {
				return false
			}
			for _, u := range cs.Status.UsedBy {
				if u.Kind == "Deployment" && u.Name == name {
					return u.Pods == count
				}
			}
			return false
		}
	}
	if err := pollUntil(ctx, time.Minute, hasPods(int32(n))); err != nil {
		return fmt.Errorf("usedBy of %s/%s to count %d Pods of Deployment %s: %w", s.Namespace, s.Name, n, name, err)
	}
	d, err := b.kube.AppsV1().Deployments(s.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	w, err := b.watchStatuses(ctx)
	if err != nil {
		return err
	}
	defer w.Stop()
	counted := make(chan struct{})
	var lastEvent time.Time
	go func() {
		defer close(counted)
		for ev := range w.ResultChan() {
			cs, ok := ev.Object.(*v1alpha1.CertificateStatus)
			if !ok || ev.Type != watch.Modified {
				continue
			}
			if cs.Namespace == s.Namespace && cs.Name == s.Name {
				r.Modified++
				lastEvent = time.Now()
			} else {
				r.Other++
			}
		}
	}()
	pids := b.processPIDs()
	cpu0 := cpuSnapshot(pids)
	begin := time.Now()
	next, err := b.createReplicaSet(ctx, d, s, "2")
	if err != nil {
		return err
	}
	for k := range n {
		if err := b.createPod(ctx, next, s, k); err != nil {
			return err
		}
		if err := b.kube.CoreV1().Pods(s.Namespace).Delete(ctx, fmt.Sprintf("%s-%d", old.Name, k), metav1.DeleteOptions{}); err != nil {
			return err
		}
		r.Writes += 2
	}
	if err := b.kube.AppsV1().ReplicaSets(s.Namespace).Delete(ctx, old.Name, metav1.DeleteOptions{}); err != nil {
		return err
	}
	// Done when usedBy counts the n new Pods and no event came for a second.
	if err := pollUntil(ctx, time.Minute, hasPods(int32(n))); err != nil {
		return err
	}
	time.Sleep(time.Second)
	w.Stop()
	<-counted
	r.Duration = lastEvent.Sub(begin)
	cpu1 := cpuSnapshot(pids)
	for _, p := range []string{"certstatus", "kube-apiserver", "etcd", "bench"} {
		r.CPU = append(r.CPU, processCPU{Process: p, CPU: cpu1[p] - cpu0[p]})
	}
	logf("usedby: rollout of %d Pods (%d writes in %v): %d MODIFIED of the Secret, %d of others; certstatus CPU %v",
		n, r.Writes, r.Duration.Round(time.Millisecond), r.Modified, r.Other, cpuOf(r.CPU, "certstatus").Round(time.Millisecond))
	return nil
}

func pollUntil(ctx context.Context, timeout time.Duration, ok func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for !ok() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// usedByStartup restarts the server with everything present: /readyz,
// Available through the aggregator, and usedBy complete (lists direct to
// the server, back to back: the figure is when the first complete list
// was asked for, so its resolution is one list).
func (b *bench) usedByStartup(ctx context.Context, f *usedByFigure, direct versioned.Interface) error {
	p, err := b.newStartupProbes()
	if err != nil {
		return err
	}
	directHTTP, viaKube, readyURL, listURL, apiServiceURL := p.direct, p.viaKube, p.readyURL, p.listURL, p.apiServiceURL
	var ready, available, complete []time.Duration
	for i := range b.o.startups {
		if err := b.srv.Stop(); err != nil {
			return err
		}
		time.Sleep(2 * time.Second)
		runCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		begin := time.Now()
		started := make(chan error, 1)
		go func() { started <- b.srv.Start(runCtx) }()
		probe := func(ok func() (bool, time.Time)) <-chan time.Duration {
			at := make(chan time.Duration, 1)
			go func() {
				defer close(at)
				for runCtx.Err() == nil {
					if done, when := ok(); done {
						at <- when.Sub(begin)
						return
					}
					select {
					case <-runCtx.Done():
					case <-time.After(startupPoll):
					}
				}
			}()
			return at
		}
		now := func(ok bool) (bool, time.Time) { return ok, time.Now() }
		readyC := probe(func() (bool, time.Time) { return now(get(runCtx, directHTTP, readyURL) == nil) })
		availableC := probe(func() (bool, time.Time) {
			if get(runCtx, viaKube, listURL) != nil {
				return false, time.Time{}
			}
			ok, _ := apiServiceAvailable(runCtx, viaKube, apiServiceURL)
			return now(ok)
		})
		completeC := probe(func() (bool, time.Time) {
			asked := time.Now()
			if get(runCtx, directHTTP, readyURL) != nil {
				return false, asked
			}
			ing, pods, err := usedByTotals(runCtx, direct)
			return err == nil && ing >= f.Ingresses && pods >= f.Pods+f.Rollout.Pods, asked
		})
		readyAt, availableAt, completeAt := <-readyC, <-availableC, <-completeC
		err := <-started
		cancel()
		if readyAt == 0 || availableAt == 0 || completeAt == 0 {
			return fmt.Errorf("start-up %d with usedBy: not ready, Available or complete in time (%v, %v, %v)", i, readyAt, availableAt, completeAt)
		}
		if err != nil {
			return err
		}
		logf("usedby: start-up %d: /readyz after %v, Available after %v, usedBy complete after %v", i,
			readyAt.Round(time.Millisecond), availableAt.Round(time.Millisecond), completeAt.Round(time.Millisecond))
		ready, available, complete = append(ready, readyAt), append(available, availableAt), append(complete, completeAt)
	}
	f.Ready, f.Available, f.Complete = summarize(ready), summarize(available), summarize(complete)
	return nil
}
