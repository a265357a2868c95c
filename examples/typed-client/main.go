// Command typed-client lists CertificateStatuses with certstatus's generated
// typed clientset and, with --watch-for, follows them with a shared informer.
// It is built as a separate module to show the generated client is usable from
// outside the certstatus module.
//
// Output, one line each:
//
//	<namespace>/<name> <state> <notAfter RFC 3339, or ->      for every listed object
//	synced <N>                                                 informer cache synced, N objects
//	ADDED|MODIFIED|DELETED <namespace>/<name> <state> rv=<resourceVersion>
//
// The informer's ADDED events for the objects it finds at start are printed
// before "synced"; everything after "synced" is a live change.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/certstatus/certstatus/generated/clientset/versioned"
	"github.com/certstatus/certstatus/generated/informers/externalversions"
	certstatusv1alpha1 "github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "path to a kubeconfig; default: $KUBECONFIG, ~/.kube/config, or in-cluster")
	namespace := flag.String("namespace", metav1.NamespaceAll, "namespace to list and watch; empty means all namespaces")
	watchFor := flag.Duration("watch-for", 0, "after listing, follow changes with an informer for this long (0: do not watch)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *kubeconfig, *namespace, *watchFor); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, kubeconfig, namespace string, watchFor time.Duration) error {
	config, err := loadConfig(kubeconfig)
	if err != nil {
		return err
	}
	client, err := versioned.NewForConfig(config)
	if err != nil {
		return fmt.Errorf("create certstatus client: %w", err)
	}

	list, err := client.CertstatusV1alpha1().CertificateStatuses(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list certificatestatuses: %w", err)
	}
	for i := range list.Items {
		item := &list.Items[i]
		fmt.Printf("%s/%s %s %s\n", item.Namespace, item.Name, item.Status.State, notAfter(item))
	}

	if watchFor <= 0 {
		return nil
	}
	return watch(ctx, client, namespace, watchFor)
}

// watch runs a shared informer for the given duration, printing its events.
// Reaching the end of the duration is success; failing to sync within it is not.
func watch(ctx context.Context, client versioned.Interface, namespace string, watchFor time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, watchFor)
	defer cancel()

	factory := externalversions.NewSharedInformerFactoryWithOptions(client, 0, externalversions.WithNamespace(namespace))
	informer := factory.Certstatus().V1alpha1().CertificateStatuses()
	registration, err := informer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { printEvent("ADDED", obj) },
		UpdateFunc: func(_, obj any) { printEvent("MODIFIED", obj) },
		DeleteFunc: func(obj any) { printEvent("DELETED", obj) },
	})
	if err != nil {
		return fmt.Errorf("add event handler: %w", err)
	}
	factory.Start(ctx.Done())
	// Shutdown waits for the informer goroutines, which stop when ctx ends.
	defer factory.Shutdown()

	// The registration is synced once the informer has its first full view
	// and this handler has received every ADDED event for it.
	if !cache.WaitFor(ctx, "", registration.HasSyncedChecker()) {
		return fmt.Errorf("informer did not sync within %s: %w", watchFor, context.Cause(ctx))
	}
	items, err := informer.Lister().List(labels.Everything())
	if err != nil {
		return fmt.Errorf("list from informer cache: %w", err)
	}
	fmt.Printf("synced %d\n", len(items))

	<-ctx.Done()
	return nil
}

func printEvent(kind string, obj any) {
	// A delete the informer only noticed on relist comes as a tombstone.
	if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tombstone.Obj
	}
	status, ok := obj.(*certstatusv1alpha1.CertificateStatus)
	if !ok {
		fmt.Fprintf(os.Stderr, "%s: unexpected object %T\n", kind, obj)
		return
	}
	fmt.Printf("%s %s/%s %s rv=%s\n", kind, status.Namespace, status.Name, status.Status.State, status.ResourceVersion)
}

func notAfter(status *certstatusv1alpha1.CertificateStatus) string {
	if status.Status.NotAfter == nil {
		return "-"
	}
	return status.Status.NotAfter.UTC().Format(time.RFC3339)
}

// loadConfig follows kubectl's rules: an explicit --kubeconfig, else
// $KUBECONFIG or ~/.kube/config, else the in-cluster service account.
func loadConfig(kubeconfig string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	config, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	return config, nil
}
