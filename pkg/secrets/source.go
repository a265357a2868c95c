// Package secrets watches Secrets through informers (one cluster-wide, or one
// per namespace given with --namespaces) and feeds the status cache. Each
// Secret is analysed once per change, in its informer's transform, and only the analysis is kept: no Secret data, annotations or
// managedFields stay in memory.
package secrets

import (
	"context"
	"fmt"
	"time"
	"unique"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/intern"
	"github.com/certstatus/certstatus/pkg/sourcesync"
	"github.com/certstatus/certstatus/pkg/statuscache"
)

// Source runs the Secret informers (one per watched namespace, or a single
// cluster-wide one) and keeps the cache up to date.
type Source struct {
	informers []toolscache.SharedIndexInformer
	synced    []toolscache.InformerSynced
	// sink receives the analysed Secrets (the status cache).
	sink  Sink
	state *sourcesync.State
}

// Sink receives analysed Secrets.
type Sink interface {
	Upsert(item statuscache.Item)
	Delete(namespace, name string)
}

// Observer counts what the source does (pkg/metrics implements it).
type Observer interface {
	// Analysed counts one Secret analysed, and how long it took.
	Analysed(elapsed time.Duration)
}

// NewSource prepares informers for the given namespaces (none: all
// namespaces) that feed sink, and mark state synced once their initial lists
// are in sink; refused reads go to state too. Secrets are received as
// protobuf, which is cheaper to decode than JSON.
func NewSource(config *rest.Config, namespaces []string, options certificate.Options, sink Sink, state *sourcesync.State, observer Observer) (*Source, error) {
	userConfig := config
	config = rest.CopyConfig(config)
	config.ContentType = runtime.ContentTypeProtobuf
	config.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("create Secret client: %w", err)
	}
	if len(namespaces) == 0 {
		namespaces = []string{metav1.NamespaceAll}
	}
	s := &Source{sink: sink, state: state}
	// Password reads are JSON (the default), through a client of their own.
	// Its rate fits one get per locked keystore during the first list: at
	// client-go's default (5 per second, burst 10) 100 keystores naming a
	// password Secret held Available back by 18 s (docs/benchmarks.md).
	passwordConfig := rest.CopyConfig(userConfig)
	passwordConfig.QPS, passwordConfig.Burst = passwordReadsPerSecond, 2*passwordReadsPerSecond
	jsonClient, err := kubernetes.NewForConfig(passwordConfig)
	if err != nil {
		return nil, fmt.Errorf("create the keystore password client: %w", err)
	}
	passwords := newPasswordSecrets(quietGetter(jsonClient.CoreV1().RESTClient()))
	analyse := transform(options, &intern.LabelSets{}, passwords, observer)
	passwords.reanalyse = passwords.reanalyser(analyse, s.apply)
	for _, namespace := range namespaces {
		secrets := client.CoreV1().Secrets(namespace)
		listWatch := &toolscache.ListWatch{
			ListWithContextFunc: func(ctx context.Context, options metav1.ListOptions) (runtime.Object, error) {
				return listAnalysed(ctx, secrets.List, options, analyse)
			},
			WatchFuncWithContext: func(ctx context.Context, options metav1.ListOptions) (watch.Interface, error) {
				w, err := secrets.Watch(ctx, options)
				if err != nil {
					return nil, err
				}
				return analyseInParallel(w, analyse), nil
			},
		}
		// The informer holds analysed Secrets only: the example object says so
		// to its reflector, and the transform analyses what a plain list brings.
		informer := toolscache.NewSharedIndexInformerWithOptions(listsPages{listWatch}, &analysedSecret{}, toolscache.SharedIndexInformerOptions{})
		if err := informer.SetTransform(analyse); err != nil {
			return nil, fmt.Errorf("set the Secret transform: %w", err)
		}
		if err := informer.SetWatchErrorHandlerWithContext(s.watchError); err != nil {
			return nil, fmt.Errorf("set the Secret watch error handler: %w", err)
		}
		registration, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    s.apply,
			UpdateFunc: func(_, newObj interface{}) { s.apply(newObj) },
			DeleteFunc: s.remove,
		})
		if err != nil {
			return nil, fmt.Errorf("watch Secrets in %q: %w", namespace, err)
		}
		s.informers = append(s.informers, informer)
		s.synced = append(s.synced, registration.HasSynced)
	}
	return s, nil
}

// Run starts the informers and marks the source synced once every Secret of
// the initial lists has been analysed and handed to the sink.
func (s *Source) Run(ctx context.Context) {
	for _, informer := range s.informers {
		go informer.RunWithContext(ctx)
	}
	if toolscache.WaitForCacheSync(ctx.Done(), s.synced...) {
		s.state.MarkSynced()
		klog.InfoS("Secret cache synced")
	}
}

// HasSynced tells whether every Secret informer has synced its initial list.
func (s *Source) HasSynced() bool {
	for _, synced := range s.synced {
		if !synced() {
			return false
		}
	}
	return true
}

// watchError hands lists and watches RBAC refuses to the synced state
// (counted, logged once, named by the 503 until synced); other errors are
// logged as the reflector's default handler does.
func (s *Source) watchError(ctx context.Context, r *toolscache.Reflector, err error) {
	if apierrors.IsForbidden(err) {
		s.state.Forbidden(err)
		return
	}
	toolscache.DefaultWatchErrorHandler(ctx, r, err)
}

func (s *Source) apply(obj interface{}) {
	secret, ok := obj.(*analysedSecret)
	if !ok {
		klog.ErrorS(nil, "Unexpected object from the Secret informer", "type", fmt.Sprintf("%T", obj))
		return
	}
	if secret.analysis == nil {
		// Not (or no longer) holding certificates: it does not appear.
		s.sink.Delete(secret.Namespace, secret.Name)
		return
	}
	s.sink.Upsert(statuscache.Item{Meta: &secret.ObjectMeta, SecretType: secret.secretType, Analysis: secret.analysis})
}

func (s *Source) remove(obj interface{}) {
	if tombstone, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		klog.ErrorS(err, "Cannot read a deleted Secret")
		return
	}
	s.sink.Delete(m.GetNamespace(), m.GetName())
}

// analysedSecret is what the informer keeps of a Secret.
type analysedSecret struct {
	metav1.ObjectMeta
	// labels keeps the shared label map in ObjectMeta.Labels alive.
	labels     *intern.LabelSet
	secretType string
	// analysis is nil when the Secret is not listed.
	analysis *certificate.Analysis
}

// The informer's store wants a runtime.Object; analysedSecret is immutable,
// so a deep copy is the object itself.
func (a *analysedSecret) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }
func (a *analysedSecret) DeepCopyObject() runtime.Object   { return a }

// transform analyses a Secret as it arrives and keeps only what is needed.
// It is idempotent: an already analysed Secret passes through.
// passwords (nil in tests that need none) serves keystore-password-secret;
// observer (nil in tests) counts the analyses.
func transform(options certificate.Options, labels *intern.LabelSets, passwords *passwordSecrets, observer Observer) toolscache.TransformFunc {
	return func(obj interface{}) (interface{}, error) {
		secret, ok := obj.(*corev1.Secret)
		if !ok {
			return obj, nil
		}
		started := time.Now()
		in := certificate.InputFromSecret(secret)
		if passwords != nil {
			passwords.changed(secret)
			if _, ok := secret.Annotations[certstatus.KeystorePasswordSecretAnnotation]; ok {
				in.PasswordFromSecret = passwords.lookup(secret)
			}
			if _, ok := secret.Annotations[certstatus.CertManagerCertificateNameAnnotation]; ok {
				in.PasswordsFromCertificate = passwords.fromCertificate(secret)
			}
		}
		analysis, listed := certificate.Analyze(in, options)
		elapsed := time.Since(started)
		if observer != nil {
			observer.Analysed(elapsed)
		}
		if elapsed > 100*time.Millisecond {
			klog.InfoS("Slow Secret analysis", "secret", klog.KObj(secret), "duration", elapsed)
		}
		kept := &analysedSecret{
			ObjectMeta: metav1.ObjectMeta{
				Name: secret.Name,
				// Thousands of Secrets share a few namespaces.
				Namespace:         unique.Make(secret.Namespace).Value(),
				UID:               secret.UID,
				ResourceVersion:   secret.ResourceVersion,
				CreationTimestamp: secret.CreationTimestamp,
			},
			labels:     labels.Share(secret.Labels),
			secretType: unique.Make(string(secret.Type)).Value(),
		}
		if kept.labels != nil {
			kept.Labels = kept.labels.Labels
		}
		if listed {
			kept.analysis = analysis
		}
		return kept, nil
	}
}
