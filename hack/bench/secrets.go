package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/certstatus/certstatus/generated/clientset/versioned"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

const (
	day = 24 * time.Hour
	// cacheVersion changes whenever the generated mixes change.
	cacheVersion = "v2"
	// cacheMaxAge bounds how long generated Secrets are reused: their dates
	// are relative to the generation time, and after a week an "expiring"
	// certificate could have expired. The margins below hold for 7 days.
	cacheMaxAge = 7 * day
	// benchNamespaces is how many namespaces the Secrets are spread over.
	benchNamespaces = 50
)

// benchSecret is one generated Secret as cached on disk.
type benchSecret struct {
	Namespace string            `json:"ns"`
	Name      string            `json:"name"`
	Kind      string            `json:"kind"` // rsa-chain or ecdsa-leaf
	State     string            `json:"state"`
	Data      map[string][]byte `json:"data"`
}

func (b *benchSecret) secret() *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      b.Name,
			Namespace: b.Namespace,
			Labels:    map[string]string{"app.kubernetes.io/part-of": "certstatus-bench", "bench/kind": b.Kind, "bench/state": b.State},
		},
		Type: corev1.SecretTypeTLS,
		Data: b.Data,
	}
}

func benchNamespace(i int) string { return fmt.Sprintf("bench-%02d", i%benchNamespaces) }

// cacheDir is ${XDG_CACHE_HOME:-$HOME/.cache}/certstatus/bench.
func cacheDir() (string, error) {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "certstatus", "bench"), nil
}

// loadOrGenerate returns n Secrets of mix: the first n of a cached set at
// least that large and younger than cacheMaxAge, or a freshly generated (and
// cached) set.
func loadOrGenerate(mix certtest.Mix, n int, logf func(string, ...any)) ([]*benchSecret, error) {
	dir, err := cacheDir()
	if err != nil {
		return nil, err
	}
	cacheFileName := regexp.MustCompile(`^secrets-` + regexp.QuoteMeta(string(mix)) + `-` + cacheVersion + `-(\d+)\.json\.gz$`)
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			m := cacheFileName.FindStringSubmatch(e.Name())
			if m == nil {
				continue
			}
			count, _ := strconv.Atoi(m[1])
			info, err := e.Info()
			if err != nil || count < n || time.Since(info.ModTime()) > cacheMaxAge {
				continue
			}
			path := filepath.Join(dir, e.Name())
			secrets, err := readCache(path, n)
			if err != nil {
				logf("ignoring unreadable cache %s: %v", path, err)
				continue
			}
			logf("using %d cached %s Secrets from %s (generated %s ago)", n, mix, path, time.Since(info.ModTime()).Round(time.Minute))
			return secrets, nil
		}
	}
	begin := time.Now()
	secrets, err := generate(mix, n, time.Now())
	if err != nil {
		return nil, err
	}
	logf("generated %d %s Secrets in %v", n, mix, time.Since(begin).Round(time.Millisecond))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, fmt.Sprintf("secrets-%s-%s-%d.json.gz", mix, cacheVersion, n))
	if err := writeCache(path, secrets); err != nil {
		return nil, err
	}
	logf("cached them in %s", path)
	return secrets, nil
}

func readCache(path string, n int) ([]*benchSecret, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReader(f))
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(zr)
	secrets := make([]*benchSecret, 0, n)
	for len(secrets) < n {
		s := &benchSecret{}
		if err := dec.Decode(s); err != nil {
			return nil, err
		}
		secrets = append(secrets, s)
	}
	return secrets, nil
}

func writeCache(path string, secrets []*benchSecret) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	zw := gzip.NewWriter(f)
	enc := json.NewEncoder(zw)
	for _, s := range secrets {
		if err := enc.Encode(s); err != nil {
			f.Close()
			return err
		}
	}
	if err := errors.Join(zw.Close(), f.Close()); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// generate builds n Secrets of mix (see certtest.Mix) spread over the bench
// namespaces. Dates are relative to now and keep their state for cacheMaxAge.
func generate(mix certtest.Mix, n int, now time.Time) ([]*benchSecret, error) {
	generated, err := certtest.GenerateMix(mix, n, now)
	if err != nil {
		return nil, err
	}
	secrets := make([]*benchSecret, n)
	for i, g := range generated {
		secrets[i] = &benchSecret{Namespace: benchNamespace(i), Name: g.Name, Kind: g.Kind, State: g.State, Data: g.Data}
	}
	return secrets, nil
}

// parallel runs do(0..n-1) on every core and returns the first error.
func parallel(ctx context.Context, n int, do func(i int) error) error {
	return parallelN(ctx, runtime.NumCPU(), n, do)
}

func parallelN(ctx context.Context, workers, n int, do func(i int) error) error {
	var next atomic.Int64
	var mu sync.Mutex
	var first error
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := do(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					next.Store(int64(n)) // stop the others
					return
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// createSecrets creates secrets[from:to] (and their namespaces) with a few
// concurrent writers.
func createSecrets(ctx context.Context, client kubernetes.Interface, secrets []*benchSecret) error {
	var namespaces []string
	for _, s := range secrets {
		if !slices.Contains(namespaces, s.Namespace) {
			namespaces = append(namespaces, s.Namespace)
		}
	}
	for _, ns := range namespaces {
		if err := ensureNamespace(ctx, client, ns); err != nil {
			return err
		}
	}
	return parallelN(ctx, createParallelism, len(secrets), func(i int) error {
		_, err := client.CoreV1().Secrets(secrets[i].Namespace).Create(ctx, secrets[i].secret(), metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create Secret %s/%s: %w", secrets[i].Namespace, secrets[i].Name, err)
		}
		return nil
	})
}

func ensureNamespace(ctx context.Context, client kubernetes.Interface, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

// ecdsaSecret is a small kubernetes.io/tls Secret: an ECDSA leaf and its CA.
func ecdsaSecret(ca *certtest.Certificate, namespace, name string, notBefore, notAfter time.Time, labels map[string]string) (*corev1.Secret, error) {
	leaf, err := ca.NewLeaf(certtest.Spec{CommonName: name + "." + namespace + ".example.com", NotBefore: notBefore, NotAfter: notAfter})
	if err != nil {
		return nil, err
	}
	key, err := leaf.KeyPEM(certtest.PKCS8)
	if err != nil {
		return nil, err
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{corev1.TLSCertKey: leaf.PEM(), corev1.TLSPrivateKeyKey: key, "ca.crt": ca.PEM()},
	}, nil
}

// createExpiringSecrets creates count TLS Secrets in namespace whose
// certificates all expire at the same second, b.o.clockLead from now, waits
// until lister lists them all, and returns that instant and the list's
// resourceVersion (to watch from).
func (b *bench) createExpiringSecrets(ctx context.Context, namespace, caName string, count int, lister versioned.Interface) (instant time.Time, rv string, err error) {
	ca, err := certtest.NewCA(certtest.Spec{Subject: pkix.Name{CommonName: caName}})
	if err != nil {
		return time.Time{}, "", err
	}
	now := time.Now()
	instant = now.Add(b.o.clockLead).Truncate(time.Second)
	secrets := make([]*corev1.Secret, count)
	if err := parallel(ctx, count, func(i int) (err error) {
		secrets[i], err = ecdsaSecret(ca, namespace, fmt.Sprintf("expires-%04d", i), now.Add(-time.Hour).Truncate(time.Second), instant, nil)
		return err
	}); err != nil {
		return time.Time{}, "", err
	}
	if err := parallelN(ctx, 16, count, func(i int) error {
		_, err := b.kube.CoreV1().Secrets(namespace).Create(ctx, secrets[i], metav1.CreateOptions{})
		return err
	}); err != nil {
		return time.Time{}, "", err
	}
	for {
		list, err := lister.CertstatusV1alpha1().CertificateStatuses(namespace).List(ctx, metav1.ListOptions{})
		if err == nil && len(list.Items) == count {
			return instant, list.ResourceVersion, nil
		}
		if time.Until(instant) < 3*time.Second {
			return time.Time{}, "", fmt.Errorf("%d Secrets were not listed 3 s before their notAfter; raise --clock-lead", count)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// createParallelism is how many Secrets the bench creates at once.
const createParallelism = 16
