// Command watchlatency measures how long a Secret change takes to reach a
// certificatestatuses watch (kube-apiserver → certstatus's Secret informer →
// analysis → cache → aggregator → client), next to how long it takes to reach
// kube-apiserver's own Secret watch, for the same writes.
//
// It renews one TLS Secret --writes times, one write at a time, each with a
// pre-generated certificate of a distinct notAfter, and waits for both events
// of each write before the next, so it measures latency, not queueing.
//
//	go run ./hack/watchlatency --kubeconfig _output/local/kubeconfig --writes 300
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/certstatus/certstatus/generated/clientset/versioned"
	"github.com/certstatus/certstatus/hack/internal/measure"
	"github.com/certstatus/certstatus/pkg/apis/certstatus/v1alpha1"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

const secretName = "watchlatency"

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the cluster (certstatus registered)")
	writes := flag.Int("writes", 300, "number of Secret writes (renewals) to measure")
	namespace := flag.String("namespace", "watchlatency", "namespace for the Secret (created if missing and left in place: a stack without the namespace controller never finishes deleting one)")
	timeout := flag.Duration("event-timeout", 10*time.Second, "how long to wait for each event before giving up")
	flag.Parse()
	if err := run(*kubeconfig, *namespace, *writes, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "watchlatency:", err)
		os.Exit(1)
	}
}

// arrival is one watch event's key and the moment it was read, or the
// error that ended the watch.
type arrival struct {
	key string
	at  time.Time
	err error
}

func run(kubeconfig, namespace string, writes int, timeout time.Duration) error {
	if writes < 1 {
		return errors.New("--writes must be at least 1")
	}
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	config.QPS = -1 // no client-side throttling: it would show up as latency
	kube, err := kubernetes.NewForConfig(config)
	if err != nil {
		return err
	}
	certs, err := versioned.NewForConfig(config)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(writes)*2*timeout+time.Minute)
	defer cancel()

	// Certificates first, so generating them is not measured.
	now := time.Now()
	root := certtest.Must(certtest.NewCA(certtest.Spec{CommonName: "watchlatency Root CA", KeyAlgorithm: certtest.ECDSA, NotAfter: now.Add(10 * 365 * 24 * time.Hour)}))
	intermediate := certtest.Must(root.NewIntermediate(certtest.Spec{CommonName: "watchlatency Intermediate CA", KeyAlgorithm: certtest.ECDSA, NotAfter: now.Add(5 * 365 * 24 * time.Hour)}))
	secrets := make([]map[string][]byte, writes+1)
	notAfters := make([]string, writes+1)
	for i := range secrets {
		notAfter := now.Truncate(time.Second).Add(30*24*time.Hour + time.Duration(i)*time.Minute)
		leaf := certtest.Must(intermediate.NewLeaf(certtest.Spec{
			CommonName: "latency.example.com", DNSNames: []string{"latency.example.com"},
			KeyAlgorithm: certtest.ECDSA, NotBefore: now.Add(-time.Hour), NotAfter: notAfter,
		}))
		secrets[i] = map[string][]byte{
			"tls.crt": certtest.ChainPEM(leaf, intermediate),
			"tls.key": certtest.Must(leaf.KeyPEM(certtest.PKCS8)),
			"ca.crt":  root.PEM(),
		}
		notAfters[i] = notAfter.UTC().Format(time.RFC3339)
	}

	if err := ensureNamespace(ctx, kube, namespace); err != nil {
		return err
	}
	defer func() {
		cleanup, stop := context.WithTimeout(context.Background(), 30*time.Second)
		defer stop()
		_ = kube.CoreV1().Secrets(namespace).Delete(cleanup, secretName, metav1.DeleteOptions{})
	}()
	secretsClient := kube.CoreV1().Secrets(namespace)
	_ = secretsClient.Delete(ctx, secretName, metav1.DeleteOptions{})
	secret, err := secretsClient.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: secretName, Namespace: namespace},
		Type:       corev1.SecretTypeTLS,
		Data:       secrets[0],
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create Secret: %w", err)
	}

	// Both watches start from a list that already shows the Secret.
	selector := metav1.ListOptions{FieldSelector: "metadata.name=" + secretName}
	statuses := certs.CertstatusV1alpha1().CertificateStatuses(namespace)
	var statusRV string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		list, err := statuses.List(ctx, selector)
		if err != nil {
			return fmt.Errorf("list certificatestatuses: %w", err)
		}
		if len(list.Items) == 1 && list.Items[0].Status.NotAfter != nil && list.Items[0].Status.NotAfter.UTC().Format(time.RFC3339) == notAfters[0] {
			statusRV = list.ResourceVersion
			break
		}
		if time.Now().After(deadline) {
			return errors.New("certstatus does not list the Secret after 30s")
		}
	}
	statusWatch, err := statuses.Watch(ctx, metav1.ListOptions{FieldSelector: selector.FieldSelector, ResourceVersion: statusRV})
	if err != nil {
		return fmt.Errorf("watch certificatestatuses: %w", err)
	}
	defer statusWatch.Stop()
	secretWatch, err := secretsClient.Watch(ctx, metav1.ListOptions{FieldSelector: selector.FieldSelector, ResourceVersion: secret.ResourceVersion})
	if err != nil {
		return fmt.Errorf("watch Secrets: %w", err)
	}
	defer secretWatch.Stop()

	statusArrivals := readEvents(statusWatch, func(object any) string {
		s, ok := object.(*v1alpha1.CertificateStatus)
		if !ok || s.Status.NotAfter == nil {
			return ""
		}
		return s.Status.NotAfter.UTC().Format(time.RFC3339)
	})
	secretArrivals := readEvents(secretWatch, func(object any) string {
		s, ok := object.(*corev1.Secret)
		if !ok {
			return ""
		}
		return s.ResourceVersion
	})

	var fromDone, fromStart, secretFromDone, secretFromStart, behindSecret, writeTime []time.Duration
	for i := 1; i <= writes; i++ {
		secret.Data = secrets[i]
		start := time.Now()
		secret, err = secretsClient.Update(ctx, secret, metav1.UpdateOptions{})
		done := time.Now()
		if err != nil {
			return fmt.Errorf("write %d: %w", i, err)
		}
		secretAt, err := await(secretArrivals, secret.ResourceVersion, timeout)
		if err != nil {
			return fmt.Errorf("write %d, Secret watch: %w", i, err)
		}
		statusAt, err := await(statusArrivals, notAfters[i], timeout)
		if err != nil {
			return fmt.Errorf("write %d, certificatestatuses watch: %w", i, err)
		}
		writeTime = append(writeTime, done.Sub(start))
		fromDone = append(fromDone, statusAt.Sub(done))
		fromStart = append(fromStart, statusAt.Sub(start))
		secretFromDone = append(secretFromDone, secretAt.Sub(done))
		secretFromStart = append(secretFromStart, secretAt.Sub(start))
		behindSecret = append(behindSecret, statusAt.Sub(secretAt))
	}

	fmt.Printf("%d Secret writes (renewals of %s/%s), one at a time\n\n", writes, namespace, secretName)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "latency\tmedian\tp99\tmax")
	line := func(name string, d []time.Duration) {
		slices.Sort(d)
		fmt.Fprintf(tw, "%s\t%v\t%v\t%v\n", name, round(measure.Percentile(d, 50)), round(measure.Percentile(d, 99)), round(d[len(d)-1]))
	}
	line("certificatestatuses watch, from write done", fromDone)
	line("certificatestatuses watch, from write start", fromStart)
	line("Secret watch (kube-apiserver), from write done", secretFromDone)
	line("Secret watch (kube-apiserver), from write start", secretFromStart)
	line("certificatestatuses event after the Secret event", behindSecret)
	line("Secret write (Update round trip)", writeTime)
	return tw.Flush()
}

// readEvents forwards each event's key and arrival time until the watch ends.
func readEvents(w watch.Interface, key func(any) string) <-chan arrival {
	out := make(chan arrival, 1024)
	go func() {
		defer close(out)
		for ev := range w.ResultChan() {
			at := time.Now()
			if ev.Type == watch.Error {
				out <- arrival{err: apierrors.FromObject(ev.Object)}
				return
			}
			if ev.Type != watch.Modified {
				continue
			}
			out <- arrival{key: key(ev.Object), at: at}
		}
	}()
	return out
}

// await skips events until the one with key and returns its arrival time.
func await(arrivals <-chan arrival, key string, timeout time.Duration) (time.Time, error) {
	deadline := time.After(timeout)
	for {
		select {
		case a, ok := <-arrivals:
			if !ok {
				return time.Time{}, errors.New("the watch ended")
			}
			if a.err != nil {
				return time.Time{}, fmt.Errorf("the watch failed: %w", a.err)
			}
			if a.key == key {
				return a.at, nil
			}
		case <-deadline:
			return time.Time{}, fmt.Errorf("no event for %s within %v", key, timeout)
		}
	}
}

// ensureNamespace creates the namespace if missing; one being deleted is refused.
func ensureNamespace(ctx context.Context, kube kubernetes.Interface, name string) error {
	ns, err := kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create namespace %s: %w", name, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("get namespace %s: %w", name, err)
	case ns.Status.Phase == corev1.NamespaceTerminating:
		return fmt.Errorf("namespace %s is being deleted; choose another with --namespace", name)
	}
	return nil
}

func round(d time.Duration) time.Duration {
	if d < 10*time.Millisecond && d > -10*time.Millisecond {
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(100 * time.Microsecond)
}
