package secrets

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/certstatus/certstatus/internal/benchcpu"
	"github.com/certstatus/certstatus/pkg/certificate"
	"github.com/certstatus/certstatus/pkg/certificate/certtest"
	"github.com/certstatus/certstatus/pkg/intern"
)

// BenchmarkStartupList is certstatus's own share of start-up CPU: the
// Secret informer's first list of N Secrets of each benchmark mix (N =
// CERTSTATUS_BENCH_SECRETS, default 10 000), from the protobuf pages
// kube-apiserver sends to the analysed list the reflector receives:
// decoding each page and the transform on every core. ns/op is one whole
// list; µs/secret is the same per Secret (wall time on this machine's
// cores); cpu-µs/secret is the process's CPU time (user + system) per
// Secret over the timed loop, every goroutine included (GC too).
func BenchmarkStartupList(b *testing.B) {
	n := 10000
	if s := os.Getenv("CERTSTATUS_BENCH_SECRETS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	for _, mix := range certtest.Mixes {
		b.Run(string(mix), func(b *testing.B) {
			pages := protobufPages(b, mix, n)
			decoder := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme)
			list := func(_ context.Context, options metav1.ListOptions) (*corev1.SecretList, error) {
				page := 0
				if options.Continue != "" {
					page, _ = strconv.Atoi(options.Continue)
				}
				secrets := &corev1.SecretList{}
				if _, _, err := decoder.Decode(pages[page], nil, secrets); err != nil {
					return nil, err
				}
				return secrets, nil
			}
			b.ReportAllocs()
			cpuBefore := benchcpu.Used(b)
			for b.Loop() {
				// A fresh label table, as a starting server has.
				analyse := transform(certificate.DefaultOptions(), &intern.LabelSets{}, nil, nil)
				object, err := listAnalysed(context.Background(), list, metav1.ListOptions{}, analyse)
				if err != nil {
					b.Fatal(err)
				}
				if got := len(object.(*analysedList).Items); got != n {
					b.Fatalf("%d Secrets analysed, want %d", got, n)
				}
			}
			// CPU time is what start-up competes for with kube-apiserver and
			// etcd; it moves less than ns/op when the machine is shared.
			b.ReportMetric(float64((benchcpu.Used(b)-cpuBefore).Microseconds())/float64(b.N*n), "cpu-µs/secret")
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/secret")
		})
	}
}

// protobufPages are n Secrets of mix as the protobuf bodies of list pages
// of listPageSize, each continuing to the next by its index.
func protobufPages(b *testing.B, mix certtest.Mix, n int) [][]byte {
	b.Helper()
	generated, err := certtest.GenerateMix(mix, n, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	encoder := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme)
	var pages [][]byte
	for start := 0; start < n; start += listPageSize {
		end := min(start+listPageSize, n)
		list := &corev1.SecretList{ListMeta: metav1.ListMeta{ResourceVersion: "100"}}
		if end < n {
			list.Continue = strconv.Itoa(len(pages) + 1)
		}
		for i, s := range generated[start:end] {
			list.Items = append(list.Items, corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{
					Namespace: fmt.Sprintf("bench-%02d", (start+i)%50), Name: s.Name,
					UID: "0f2b8a3c-6d1e-4f7a-9b2c-3e4d5f6a7b8c", ResourceVersion: strconv.Itoa(1000 + start + i),
					CreationTimestamp: metav1.Now(),
					Labels:            map[string]string{"app.kubernetes.io/part-of": "certstatus-bench", "bench/kind": s.Kind, "bench/state": s.State},
				},
				Type: corev1.SecretTypeTLS,
				Data: s.Data,
			})
		}
		list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
		body, err := runtime.Encode(encoder, list)
		if err != nil {
			b.Fatal(err)
		}
		pages = append(pages, body)
	}
	return pages
}
