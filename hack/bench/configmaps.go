package main

// The configmaps figure (issue #26 part 5): ConfigMaps and CRDs beside the
// bench Secrets. Trust bundles are what configmapcertificatestatuses serves;
// the plain ConfigMaps and the CRDs' schemas are what certstatus must not
// keep. Everything is created through kube-apiserver as users would, and the
// CRDs are registered but never converted (no custom resource is created).

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/certstatus/certstatus/generated/clientset/versioned"
	"github.com/certstatus/certstatus/hack/internal/measure"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/test/stack"
)

// configMapsFigure is everything the configmaps step measured.
type configMapsFigure struct {
	// What was loaded: Bundles trust bundles among ConfigMaps, the rest
	// PlainBytes of data without certificates each; CRDs with a conversion
	// webhook, each version's openAPIV3Schema SchemaBytes of JSON (CRDBytes
	// the whole object); BundleCertificates PEM blocks in all bundles, drawn
	// from DistinctCAs roots.
	ConfigMaps         int   `json:"configMaps"`
	Bundles            int   `json:"bundles"`
	PlainBytes         int   `json:"plainBytes"`
	CRDs               int   `json:"crds"`
	SchemaBytes        int64 `json:"schemaBytes"`
	CRDBytes           int64 `json:"crdBytes"`
	BundleCertificates int   `json:"bundleCertificates"`
	DistinctCAs        int   `json:"distinctCAs"`
	// Memory after a forced GC: with the Secrets only, then the bundles,
	// then the plain ConfigMaps, then the CRDs (the same process); Restarted
	// after the restarts, everything present from the start.
	Base        memory `json:"base"`
	WithBundles memory `json:"withBundles"`
	WithPlain   memory `json:"withPlain"`
	WithCRDs    memory `json:"withCRDs"`
	Restarted   memory `json:"restarted"`
	// Load times: from the first create until certstatus served them all
	// (plain: until a later change of a bundle was served).
	BundleLoad, PlainLoad, CRDLoad time.Duration
	// Restarts with everything present: own /readyz; Available (APIService
	// Available and a certificatestatuses list through kube-apiserver
	// answers 200); Served (configmapcertificatestatuses and
	// clustercertificatestatuses lists through kube-apiserver answer 200:
	// their sources have synced); certstatus's CPU at Available and at
	// Served; kube-apiserver's CPU from the start to Served.
	Ready     stats  `json:"ready"`
	Available stats  `json:"available"`
	Served    stats  `json:"served"`
	CPU       stats  `json:"cpu"`
	ServedCPU stats  `json:"servedCPU"`
	PeerCPU   stats  `json:"peerCPU"`
	Load      string `json:"load,omitempty"`
	Setting   string `json:"setting"`
	// Settled: how long kube-apiserver took, after the CRDs were served, to
	// come back to idle before the restarts were timed, and the CPU it
	// spent meanwhile (it rebuilds its OpenAPI for each new CRD).
	Settled    time.Duration `json:"settled"`
	SettledCPU time.Duration `json:"settledCPU"`
	// Lists: kubectl get cmcst -A against kubectl get configmaps -A (the
	// target is per object: the two list different numbers), and kubectl
	// get ccst against kubectl get crd (reported).
	ConfigMapsTable comparison `json:"configMapsTable"`
	Registrations   comparison `json:"registrations"`
	// Listed: what certstatus served of the bench objects at the end.
	ListedBundles int `json:"listedBundles"`
	ListedCRDs    int `json:"listedCRDs"`
	// Figures (results' header) of this run, for a section of its own.
	Machine    string    `json:"machine"`
	Command    string    `json:"command"`
	LoadBefore string    `json:"loadBefore"`
	LoadAfter  string    `json:"loadAfter"`
	Started    time.Time `json:"started"`
	Profiles   []string  `json:"profiles,omitempty"`
}

const (
	// plainConfigMapBytes is the data of a ConfigMap without certificates.
	plainConfigMapBytes = 4096
	// crdSchemaBytes is each CRD version's openAPIV3Schema, as JSON.
	crdSchemaBytes = 200 << 10
	// caPoolSize roots are shared by the bundles and the CRDs' caBundles,
	// as a cluster's bundles share public roots.
	caPoolSize = 12
	// trustManagerRoots is the size of a trust-manager-like bundle.
	trustManagerRoots = 10
	// crdGroup holds the bench CRDs; nothing serves it.
	crdGroup = "bench.example.com"
)

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// bundleRoots is which pool roots bundle i holds, and under which key: two
// in ten are trust-manager-like (ten roots, rotated so bundles share
// different subsets), three in ten hold three roots (a service-CA bundle
// beside a mesh root), the rest one root as kube-root-ca.crt does.
func bundleRoots(i, pool int) (key string, roots []int) {
	count, key := 1, "ca.crt"
	switch i % 10 {
	case 0, 1:
		count, key = trustManagerRoots, "trust-bundle.pem"
	case 2, 3, 4:
		count, key = 3, "ca-bundle.crt"
	}
	for k := range min(count, pool) {
		roots = append(roots, (i+k)%pool)
	}
	return key, roots
}

// plainData is ConfigMap i's configuration: properties lines, exactly
// size bytes, no PEM.
func plainData(i, size int) string {
	var b strings.Builder
	b.Grow(size + 80)
	for line := 0; b.Len() < size; line++ {
		fmt.Fprintf(&b, "app.%05d.setting.%03d=value-%d-%d of the service configuration, not a certificate\n", i, line, i, line*7919%10007)
	}
	return b.String()[:size]
}

// crdSchema is a structural openAPIV3Schema of about size bytes of JSON:
// a spec of described fields, as large generated CRDs have.
func crdSchema(size int) map[string]any {
	fields := map[string]any{}
	spec := map[string]any{"type": "object", "description": "Spec of the bench resource; its fields are never set.", "properties": fields}
	root := map[string]any{"type": "object", "properties": map[string]any{
		"apiVersion": map[string]any{"type": "string"},
		"kind":       map[string]any{"type": "string"},
		"metadata":   map[string]any{"type": "object"},
		"spec":       spec,
		"status":     map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true},
	}}
	// Each field is about 200 bytes; add them until the JSON reaches size.
	const description = "A setting of the bench resource, described at the length generated API references describe theirs, so that the schema weighs what real ones do."
	for i := 0; ; i++ {
		if i%64 == 0 {
			data, _ := json.Marshal(root)
			if len(data) >= size {
				return root
			}
		}
		field := map[string]any{"type": "string", "description": description}
		switch i % 4 {
		case 1:
			field = map[string]any{"type": "integer", "format": "int32", "minimum": int64(0), "description": description}
		case 2:
			field = map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": description}
		}
		fields[fmt.Sprintf("field%04d", i)] = field
	}
}

// benchCRD is CRD i: two served versions, v1 stored, a conversion webhook
// that is never called (no custom resource exists) with a caBundle.
func benchCRD(i int, schema map[string]any, caBundle []byte) *unstructured.Unstructured {
	plural, kind := fmt.Sprintf("widget%02ds", i), fmt.Sprintf("Widget%02d", i)
	version := func(name string, storage bool) map[string]any {
		return map[string]any{"name": name, "served": true, "storage": storage, "schema": map[string]any{"openAPIV3Schema": schema}}
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata": map[string]any{
			"name":   plural + "." + crdGroup,
			"labels": map[string]any{"app.kubernetes.io/part-of": "certstatus-bench"},
		},
		"spec": map[string]any{
			"group":    crdGroup,
			"names":    map[string]any{"plural": plural, "singular": strings.TrimSuffix(plural, "s"), "kind": kind, "listKind": kind + "List"},
			"scope":    "Namespaced",
			"versions": []any{version("v1", true), version("v2", false)},
			"conversion": map[string]any{
				"strategy": "Webhook",
				"webhook": map[string]any{
					"conversionReviewVersions": []any{"v1"},
					"clientConfig": map[string]any{
						"service":  map[string]any{"namespace": benchNamespace(i), "name": "widget-conversion", "path": "/convert", "port": int64(443)},
						"caBundle": base64.StdEncoding.EncodeToString(caBundle),
					},
				},
			},
		},
	}}
}

// caPool builds the shared roots: mostly P-256, a few RSA-2048 (as public
// roots are), one expiring within 30 days.
func caPool(now time.Time) ([]*certtest.Certificate, error) {
	pool := make([]*certtest.Certificate, caPoolSize)
	for i := range pool {
		spec := certtest.Spec{CommonName: fmt.Sprintf("Bench Trust Root %02d", i), NotBefore: now.Add(-24 * time.Hour), NotAfter: now.AddDate(5, 0, 0)}
		if i%4 == 3 {
			spec.KeyAlgorithm, spec.RSABits = certtest.RSA, 2048
		}
		if i == caPoolSize-1 {
			spec.NotAfter = now.AddDate(0, 0, 20)
		}
		ca, err := certtest.NewCA(spec)
		if err != nil {
			return nil, err
		}
		pool[i] = ca
	}
	return pool, nil
}

func benchConfigMap(namespace, name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{"app.kubernetes.io/part-of": "certstatus-bench"}},
		Data:       data,
	}
}

// configMapsFigures is the configmaps step: load bundles, then plain
// ConfigMaps, then CRDs, reading certstatus's heap after each; restart it
// with everything present; time the kubectl lists. The objects are deleted
// afterwards, so that later figures (usedby) do not see them.
func (b *bench) configMapsFigures(ctx context.Context) error {
	f := &configMapsFigure{ConfigMaps: b.o.configMaps, Bundles: b.o.bundles, PlainBytes: plainConfigMapBytes, CRDs: b.o.crds,
		Machine: b.res.Machine, Command: b.res.Command, LoadBefore: loadAverage(), Started: time.Now()}
	b.res.ConfigMaps = f
	pool, err := caPool(time.Now())
	if err != nil {
		return err
	}
	f.DistinctCAs = len(pool)
	direct, err := b.directTypedClient()
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(b.st.RESTConfig())
	if err != nil {
		return err
	}
	defer b.deleteConfigMapsFigure(ctx, dyn)
	if f.Base, err = b.serverMemory(ctx); err != nil {
		return err
	}

	// Bundles first: their count tells when certstatus has them all.
	begin := time.Now()
	bundles := make([]*corev1.ConfigMap, f.Bundles)
	for i := range bundles {
		key, roots := bundleRoots(i, len(pool))
		var pem []byte
		for _, r := range roots {
			pem = append(pem, pool[r].PEM()...)
		}
		f.BundleCertificates += len(roots)
		bundles[i] = benchConfigMap(benchNamespace(i), fmt.Sprintf("bundle-%04d", i), map[string]string{key: string(pem)})
	}
	if err := b.createConfigMaps(ctx, len(bundles), func(i int) *corev1.ConfigMap { return bundles[i] }); err != nil {
		return err
	}
	if err := waitCount(ctx, 3*time.Minute, f.Bundles, "bench ConfigMapCertificateStatuses", b.countBundles(direct)); err != nil {
		return err
	}
	f.BundleLoad = time.Since(begin)
	if f.WithBundles, err = b.serverMemory(ctx); err != nil {
		return err
	}
	logf("configmaps: %d bundles served %v after the first create; live heap %.0f B per bundle", f.Bundles, f.BundleLoad.Round(time.Millisecond),
		perSecret(f.WithBundles.live(), f.Base.live(), f.Bundles))

	// Plain ConfigMaps leave nothing to see: a bundle's label changed after
	// them is served once the source has read every one of them (one watch,
	// in resourceVersion order).
	plain := f.ConfigMaps - f.Bundles
	begin = time.Now()
	if err := b.createConfigMaps(ctx, plain, func(i int) *corev1.ConfigMap {
		return benchConfigMap(benchNamespace(i), fmt.Sprintf("config-%04d", i), map[string]string{"app.properties": plainData(i, f.PlainBytes)})
	}); err != nil {
		return err
	}
	if err := b.awaitSentinel(ctx, direct, bundles[0]); err != nil {
		return err
	}
	f.PlainLoad = time.Since(begin)
	if f.WithPlain, err = b.serverMemory(ctx); err != nil {
		return err
	}
	logf("configmaps: %d ConfigMaps without certificates read %v after the first create; live heap %.1f B per ConfigMap without certificates", plain,
		f.PlainLoad.Round(time.Millisecond), f.perPlain())

	begin = time.Now()
	schema := crdSchema(crdSchemaBytes)
	schemaJSON, err := json.Marshal(schema)
	if err != nil {
		return err
	}
	f.SchemaBytes = int64(len(schemaJSON))
	if err := parallelN(ctx, 4, f.CRDs, func(i int) error {
		crd := benchCRD(i, schema, pool[i%len(pool)].PEM())
		if i == 0 {
			data, _ := crd.MarshalJSON()
			f.CRDBytes = int64(len(data))
		}
		_, err := dyn.Resource(crdResource).Create(ctx, crd, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	}); err != nil {
		return fmt.Errorf("create CRDs: %w", err)
	}
	if err := waitCount(ctx, 5*time.Minute, f.CRDs, "bench CRDs' ClusterCertificateStatuses", b.countCRDs(direct)); err != nil {
		return err
	}
	f.CRDLoad = time.Since(begin)
	if f.WithCRDs, err = b.serverMemory(ctx); err != nil {
		return err
	}
	logf("configmaps: %d CRDs (%s of schema each version, %s each) served %v after the first create; live heap %s per CRD", f.CRDs,
		size(f.SchemaBytes), size(f.CRDBytes), f.CRDLoad.Round(time.Millisecond), size(int64(perSecret(f.WithCRDs.live(), f.WithPlain.live(), f.CRDs))))
	if err := b.saveConfigMapsProfile(ctx, f, "/debug/pprof/heap", "heap-configmaps.pprof"); err != nil {
		logf("heap profile: %v", err)
	}

	// The restarts run as the Deployment would (its memory limit).
	if err := b.setMemoryLimit(true); err != nil {
		return err
	}
	f.Setting = gcSettings(b.o.memoryLimit)
	if err := b.awaitPeerIdle(ctx, f); err != nil {
		return err
	}
	if err := b.configMapsStartup(ctx, f); err != nil {
		return err
	}
	if f.Restarted, err = b.serverMemory(ctx); err != nil {
		return err
	}
	if err := b.configMapsLists(ctx, f); err != nil {
		return err
	}
	if f.ListedBundles, err = b.countBundles(direct)(ctx); err != nil {
		return err
	}
	if f.ListedCRDs, err = b.countCRDs(direct)(ctx); err != nil {
		return err
	}
	f.LoadAfter = loadAverage()
	return nil
}

// perPlain is the live heap each ConfigMap without certificates added.
func (f *configMapsFigure) perPlain() float64 {
	return perSecret(f.WithPlain.live(), f.WithBundles.live(), f.ConfigMaps-f.Bundles)
}

func (b *bench) createConfigMaps(ctx context.Context, n int, configMap func(i int) *corev1.ConfigMap) error {
	return parallelN(ctx, createParallelism, n, func(i int) error {
		cm := configMap(i)
		_, err := b.kube.CoreV1().ConfigMaps(cm.Namespace).Create(ctx, cm, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create ConfigMap %s/%s: %w", cm.Namespace, cm.Name, err)
		}
		return nil
	})
}

// countBundles counts the bench ConfigMapCertificateStatuses.
func (b *bench) countBundles(client versioned.Interface) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		list, err := client.CertstatusV1alpha1().ConfigMapCertificateStatuses("").List(ctx, metav1.ListOptions{LabelSelector: benchLabel})
		if err != nil {
			return 0, err
		}
		return len(list.Items), nil
	}
}

// countCRDs counts the bench CRDs' ClusterCertificateStatuses.
func (b *bench) countCRDs(client versioned.Interface) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		list, err := client.CertstatusV1alpha1().ClusterCertificateStatuses().List(ctx, metav1.ListOptions{LabelSelector: benchLabel})
		if err != nil {
			return 0, err
		}
		n := 0
		for _, c := range list.Items {
			if s := c.Status.Source; s != nil && s.Kind == "CustomResourceDefinition" {
				n++
			}
		}
		return n, nil
	}
}

// waitCount polls count until it reaches want.
func waitCount(ctx context.Context, timeout time.Duration, want int, what string, count func(context.Context) (int, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	got, err := -1, error(nil)
	for {
		if got, err = count(ctx); err == nil && got >= want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %d %s (last %d, error %v): %w", want, what, got, err, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// awaitSentinel labels the bundle and waits until certstatus serves the label.
func (b *bench) awaitSentinel(ctx context.Context, direct versioned.Interface, cm *corev1.ConfigMap) error {
	value := fmt.Sprint(time.Now().UnixNano())
	patch := fmt.Sprintf(`{"metadata":{"labels":{"certstatus-bench/sentinel":%q}}}`, value)
	if _, err := b.kube.CoreV1().ConfigMaps(cm.Namespace).Patch(ctx, cm.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		return err
	}
	return pollUntil(ctx, 3*time.Minute, func() bool {
		s, err := direct.CertstatusV1alpha1().ConfigMapCertificateStatuses(cm.Namespace).Get(ctx, cm.Name, metav1.GetOptions{})
		return err == nil && s.Labels["certstatus-bench/sentinel"] == value
	})
}

func (b *bench) saveConfigMapsProfile(ctx context.Context, f *configMapsFigure, path, name string, params ...string) error {
	if err := b.saveProfile(ctx, path, name, params...); err != nil {
		return err
	}
	f.Profiles = append(f.Profiles, b.res.Profiles[len(b.res.Profiles)-1])
	return nil
}

// Idle is kube-apiserver using less than idleShare of a core over
// idleWindow; it is given up to idleTimeout to get there.
const (
	idleShare   = 0.25
	idleWindow  = 2 * time.Second
	idleTimeout = 3 * time.Minute
)

// awaitPeerIdle waits until kube-apiserver is done with the CRDs just
// created (50 of 410 KiB cost it tens of seconds of CPU), so that the
// restarts time certstatus's start, not kube-apiserver installing CRDs.
func (b *bench) awaitPeerIdle(ctx context.Context, f *configMapsFigure) error {
	pid, err := b.kubeAPIServerPID()
	if err != nil {
		return err
	}
	begin := time.Now()
	first, err := measure.CPU(pid)
	if err != nil {
		return err
	}
	last := first
	for time.Since(begin) < idleTimeout {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(idleWindow):
		}
		used, err := measure.CPU(pid)
		if err != nil {
			return err
		}
		busy := used - last
		last = used
		if float64(busy) < idleShare*float64(idleWindow) {
			break
		}
	}
	f.Settled, f.SettledCPU = time.Since(begin), last-first
	logf("configmaps: kube-apiserver idle after %v (%v of its CPU since the CRDs were served)", f.Settled.Round(time.Millisecond), f.SettledCPU.Round(time.Millisecond))
	return nil
}

// configMapsStartup restarts the server --startups times with everything
// present: /readyz, Available, and both new resources served through the
// aggregator, with certstatus's CPU at Available and at Served. The last
// restart is profiled.
func (b *bench) configMapsStartup(ctx context.Context, f *configMapsFigure) error {
	p, err := b.newStartupProbes()
	if err != nil {
		return err
	}
	base := b.st.APIServerURL() + "/apis/" + stack.Group + "/" + stack.Version + "/"
	servedURLs := []string{base + "configmapcertificatestatuses?limit=1", base + "clustercertificatestatuses?limit=1"}
	var ready, available, served, cpu, servedCPU, peerCPU []time.Duration
	for i := range b.o.startups {
		if err := b.srv.Stop(); err != nil {
			return err
		}
		time.Sleep(2 * time.Second)
		peerPID, err := b.kubeAPIServerPID()
		if err != nil {
			return err
		}
		peerBefore, _ := measure.CPU(peerPID)
		runCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		begin := time.Now()
		started := make(chan error, 1)
		go func() { started <- b.srv.Start(runCtx) }()
		profiled := make(chan struct{})
		if i == b.o.startups-1 {
			go func() {
				defer close(profiled)
				if b.profileStartup(ctx, p.direct, "cpu-startup-configmaps.pprof", 8) == nil {
					f.Profiles = append(f.Profiles, b.res.Profiles[len(b.res.Profiles)-1])
				}
			}()
		} else {
			close(profiled)
		}
		// Each probe records the server's CPU when it succeeded.
		probe := func(ok func() bool) <-chan [2]time.Duration {
			at := make(chan [2]time.Duration, 1)
			go func() {
				defer close(at)
				for runCtx.Err() == nil {
					if ok() {
						used, _ := measure.CPU(b.srv.PID())
						at <- [2]time.Duration{time.Since(begin), used}
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
		readyC := probe(func() bool { return get(runCtx, p.direct, p.readyURL) == nil })
		availableC := probe(func() bool {
			if get(runCtx, p.viaKube, p.listURL) != nil {
				return false
			}
			ok, _ := apiServiceAvailable(runCtx, p.viaKube, p.apiServiceURL)
			return ok
		})
		servedC := probe(func() bool { return allOK(runCtx, p.viaKube, servedURLs) })
		readyAt, availableAt, servedAt := <-readyC, <-availableC, <-servedC
		peerAfter, _ := measure.CPU(peerPID)
		err = <-started
		cancel()
		<-profiled
		if readyAt[0] == 0 || availableAt[0] == 0 || servedAt[0] == 0 {
			return fmt.Errorf("start-up %d with ConfigMaps and CRDs: not ready, Available or served in time (%v, %v, %v)", i, readyAt[0], availableAt[0], servedAt[0])
		}
		if err != nil {
			return err
		}
		logf("configmaps: start-up %d: /readyz after %v, Available after %v (CPU %v), cmcst and ccst served after %v (CPU %v); kube-apiserver CPU %v; load %s", i,
			readyAt[0].Round(time.Millisecond), availableAt[0].Round(time.Millisecond), availableAt[1].Round(time.Millisecond),
			servedAt[0].Round(time.Millisecond), servedAt[1].Round(time.Millisecond), (peerAfter - peerBefore).Round(time.Millisecond), loadAverage())
		ready, available, served = append(ready, readyAt[0]), append(available, availableAt[0]), append(served, servedAt[0])
		cpu, servedCPU, peerCPU = append(cpu, availableAt[1]), append(servedCPU, servedAt[1]), append(peerCPU, peerAfter-peerBefore)
	}
	f.Ready, f.Available, f.Served = summarize(ready), summarize(available), summarize(served)
	f.CPU, f.ServedCPU, f.PeerCPU, f.Load = summarize(cpu), summarize(servedCPU), summarize(peerCPU), loadAverage()
	return nil
}

// allOK succeeds when every URL answers 200.
func allOK(ctx context.Context, client *http.Client, urls []string) bool {
	for _, url := range urls {
		if get(ctx, client, url) != nil {
			return false
		}
	}
	return true
}

// configMapsLists times kubectl get cmcst -A against kubectl get
// configmaps -A, and kubectl get ccst against kubectl get crd.
func (b *bench) configMapsLists(ctx context.Context, f *configMapsFigure) error {
	var err error
	f.ConfigMapsTable, err = b.kubectlPairMin(ctx, "kubectl table, all namespaces", []string{"get", "cmcst", "-A"}, []string{"get", "configmaps", "-A"}, f.Bundles, f.ConfigMaps)
	if err != nil {
		return err
	}
	f.ConfigMapsTable.Key, f.ConfigMapsTable.Target = "cmcst-table", 1.0
	logf("configmaps: %s; per object %s against %s: ratio %.2f", f.ConfigMapsTable.Name, perObjectString(f.ConfigMapsTable.Ours.Median, f.ConfigMapsTable.OursItems),
		perObjectString(f.ConfigMapsTable.Peer.Median, f.ConfigMapsTable.PeerItems), perObjectRatio(f.ConfigMapsTable))
	b.logComparison(f.ConfigMapsTable)
	if perObjectRatio(f.ConfigMapsTable) > f.ConfigMapsTable.Target {
		// Missed: keep a CPU profile of certstatus serving the table.
		if err := b.profileWhile(ctx, "cpu-cmcst-list.pprof", func() error {
			_, err := kubectl(ctx, b.st, "get", "cmcst", "-A")
			return err
		}); err != nil {
			logf("CPU profile of cmcst lists: %v", err)
		} else {
			f.Profiles = append(f.Profiles, b.res.Profiles[len(b.res.Profiles)-1])
		}
	}
	f.Registrations, err = b.kubectlPairMin(ctx, "kubectl table, cluster-scoped", []string{"get", "ccst"}, []string{"get", "crd"}, f.CRDs, f.CRDs)
	if err != nil {
		return err
	}
	f.Registrations.Key = "ccst-table"
	b.logComparison(f.Registrations)
	return nil
}

// deleteConfigMapsFigure deletes the figure's ConfigMaps and CRDs when a
// later figure (usedby) runs, so that they show in no other figure.
func (b *bench) deleteConfigMapsFigure(ctx context.Context, dyn dynamic.Interface) {
	if b.o.skip["usedby"] {
		return
	}
	for i := range benchNamespaces {
		if err := b.kube.CoreV1().ConfigMaps(benchNamespace(i)).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: benchLabel}); err != nil {
			logf("configmaps: delete the bench ConfigMaps of %s: %v", benchNamespace(i), err)
		}
	}
	if err := dyn.Resource(crdResource).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: benchLabel}); err != nil {
		logf("configmaps: delete the bench CRDs: %v", err)
	}
}
