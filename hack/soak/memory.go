package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"slices"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/certstatus/certstatus/hack/internal/measure"
)

// memory samples certstatus's RSS (/proc/<pid>/stat) and Go heap in use
// (go_memstats_heap_inuse_bytes from its own /metrics, read directly as admin).
type memory struct {
	direct     *rest.Config
	pid        int
	rss, heap  []int64 // bytes
	sampleTime []time.Time
}

func (m *memory) take(ctx context.Context) error {
	rss, err := measure.RSS(m.pid)
	if err != nil {
		return err
	}
	heap, err := heapInuse(ctx, m.direct)
	if err != nil {
		return err
	}
	m.rss = append(m.rss, rss)
	m.heap = append(m.heap, heap)
	m.sampleTime = append(m.sampleTime, time.Now())
	log.Printf("certstatus memory: RSS %s, heap in use %s", measure.MiB(rss), measure.MiB(heap))
	return nil
}

func (m *memory) summary() string {
	if len(m.rss) == 0 {
		return "no samples"
	}
	first, last := 0, len(m.rss)-1
	return fmt.Sprintf("%d samples; RSS first %s, last %s, max %s; heap in use first %s, last %s, max %s",
		len(m.rss), measure.MiB(m.rss[first]), measure.MiB(m.rss[last]), measure.MiB(slices.Max(m.rss)), measure.MiB(m.heap[first]), measure.MiB(m.heap[last]), measure.MiB(slices.Max(m.heap)))
}

func heapInuse(ctx context.Context, direct *rest.Config) (int64, error) {
	client, err := kubernetes.NewForConfig(direct)
	if err != nil {
		return 0, err
	}
	metrics, err := measure.Scrape(ctx, client.CoreV1().RESTClient(), "/metrics")
	if err != nil {
		return 0, fmt.Errorf("read certstatus /metrics: %w", err)
	}
	if _, ok := metrics["go_memstats_heap_inuse_bytes"]; !ok {
		return 0, errors.New("no go_memstats_heap_inuse_bytes in certstatus /metrics")
	}
	return int64(metrics.Sum("go_memstats_heap_inuse_bytes", nil)), nil
}
