package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// A run of only the configmaps figure rewrites its own section and keeps the
// main one; a run without it keeps its section; a first run appends it.
func TestReplaceSectionsKeepsWhatARunDidNotMeasure(t *testing.T) {
	main := beginMarker + "\nold main figures\n" + endMarker
	cm := configMapsBeginMarker + "\nold configmaps figures\n" + configMapsEndMarker
	doc := "# Benchmarks\n\nintro\n\n" + main + "\n\nhand-written notes\n\n" + cm + "\n\nmore notes\n"

	got := string(replaceSection([]byte(doc), configMapsBeginMarker, configMapsEndMarker, configMapsBeginMarker+"\nnew\n"+configMapsEndMarker))
	if !strings.Contains(got, "old main figures") || !strings.Contains(got, "hand-written notes") || !strings.HasSuffix(got, "\n\nmore notes\n") {
		t.Errorf("the configmaps section replaced more than itself:\n%s", got)
	}
	if strings.Contains(got, "old configmaps figures") || strings.Count(got, configMapsBeginMarker) != 1 || !strings.Contains(got, "\nnew\n") {
		t.Errorf("the configmaps section was not replaced:\n%s", got)
	}

	got = string(replaceSection([]byte(doc), beginMarker, endMarker, beginMarker+"\nnew main\n"+endMarker))
	if strings.Contains(got, "old main figures") || !strings.Contains(got, "old configmaps figures") {
		t.Errorf("the main section's replacement touched the configmaps one:\n%s", got)
	}

	// A report from before the configmaps markers: the section is appended.
	first := "# Benchmarks\n\n" + main + "\n\nnotes"
	got = string(replaceSection([]byte(first), configMapsBeginMarker, configMapsEndMarker, cm))
	if !strings.HasPrefix(got, first+"\n\n"+configMapsBeginMarker) || !strings.HasSuffix(got, configMapsEndMarker+"\n") {
		t.Errorf("appended section:\n%q", got)
	}
	// An end marker before the begin marker is not a section.
	broken := configMapsEndMarker + "\n" + configMapsBeginMarker + "\n"
	if got := string(replaceSection([]byte(broken), configMapsBeginMarker, configMapsEndMarker, "X")); !strings.HasPrefix(got, broken) || !strings.HasSuffix(got, "X\n") {
		t.Errorf("markers out of order: %q", got)
	}
}

func TestMainMeasured(t *testing.T) {
	for _, tc := range []struct {
		figures []string
		want    bool
	}{
		{nil, true}, // results from before figures were recorded
		{[]string{"configmaps"}, false},
		{[]string{"startup", "configmaps"}, true},
		{[]string{"usedby"}, true},
	} {
		if got := mainMeasured(&results{Figures: tc.figures}); got != tc.want {
			t.Errorf("%v: %v, want %v", tc.figures, got, tc.want)
		}
	}
}

// The cmcst target is per object: certstatus lists the bundles, kubectl get
// configmaps every ConfigMap.
func TestConfigMapsSummary(t *testing.T) {
	figure := func(ours, peer, available time.Duration, perPlainBytes int64) *results {
		f := &configMapsFigure{ConfigMaps: 10000, Bundles: 1000, PlainBytes: 4096, CRDs: 50,
			WithBundles: memory{HeapLive: 100 << 20}, WithPlain: memory{HeapLive: 100<<20 + 9000*perPlainBytes},
			Available: stats{Runs: 3, Median: available, P90: available}, Served: stats{Runs: 3, Median: available, P90: available},
			ConfigMapsTable: comparison{Ours: stats{Runs: 5, Median: ours}, Peer: stats{Runs: 5, Median: peer}, OursItems: 1000, PeerItems: 10000}}
		return &results{Secrets: 10000, ConfigMaps: f}
	}
	render := func(r *results) string {
		var out strings.Builder
		configMapsSummary(func(format string, args ...any) { fmt.Fprintf(&out, format, args...) }, r)
		return out.String()
	}
	// 200 ms for 1 000 against 2 s for 10 000: 200 µs per object each.
	got := render(figure(200*time.Millisecond, 2*time.Second, 2900*time.Millisecond, 40))
	for _, want := range []string{"200.0 µs per object (200 ms for 1000) against 200.0 µs (2.00 s for 10000): **1.00×** | met |",
		"median 2.90 s (p90 2.90 s)", "40.0 B (live heap", "| met |"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if strings.Contains(got, "missed") {
		t.Errorf("a target missed at the bounds:\n%s", got)
	}
	// 250 ms for 1 000 is 1.25× per object, though 8× faster in all.
	got = render(figure(250*time.Millisecond, 2*time.Second, 3100*time.Millisecond, 65))
	if n := strings.Count(got, "**missed**"); n != 3 {
		t.Errorf("%d targets missed, want 3 (per object, Available, heap; served is reported):\n%s", n, got)
	}
	if !strings.Contains(got, "**1.25×**") {
		t.Errorf("per-object ratio not 1.25:\n%s", got)
	}
	if got := render(&results{}); got != "" {
		t.Errorf("no figure printed %q", got)
	}
}

// The section is whole between its markers and carries the target table.
func TestRenderConfigMaps(t *testing.T) {
	r := &results{Secrets: 10000, ConfigMaps: &configMapsFigure{ConfigMaps: 10000, Bundles: 1000, PlainBytes: 4096, CRDs: 50,
		Available: stats{Runs: 3, Median: time.Second, P90: time.Second}, Profiles: []string{"_output/bench/heap-configmaps.pprof"}}}
	got := renderConfigMaps(r)
	if !strings.HasPrefix(got, configMapsBeginMarker) || !strings.HasSuffix(got, configMapsEndMarker) || strings.Count(got, "<!--") != 2 {
		t.Errorf("section not enclosed by its markers:\n%s", got)
	}
	if !strings.Contains(got, "| target | measured | |") || !strings.Contains(got, "Available ≤ 3 s after start, 10000 ConfigMaps (1000 bundles) and 50 CRDs beside 10000 Secrets") {
		t.Errorf("no target table:\n%s", got)
	}
}

func TestPlainDataHasNoCertificate(t *testing.T) {
	for _, i := range []int{0, 8999} {
		d := plainData(i, plainConfigMapBytes)
		if len(d) != plainConfigMapBytes || strings.Contains(d, "-----BEGIN") {
			t.Errorf("ConfigMap %d: %d bytes, PEM %v", i, len(d), strings.Contains(d, "-----BEGIN"))
		}
	}
	if plainData(1, 100) == plainData(2, 100) {
		t.Error("two ConfigMaps have the same data")
	}
}

func TestCRDSchemaSize(t *testing.T) {
	data, err := json.Marshal(crdSchema(crdSchemaBytes))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(data); n < crdSchemaBytes || n > crdSchemaBytes*21/20 {
		t.Errorf("schema of %d bytes, want %d to 5 %% more", n, crdSchemaBytes)
	}
}

// Bundles share roots: trust-manager-like ones hold ten, every root is used.
func TestBundleRoots(t *testing.T) {
	used := map[int]int{}
	sizes := map[int]int{}
	for i := range 1000 {
		key, roots := bundleRoots(i, caPoolSize)
		sizes[len(roots)]++
		if len(roots) == trustManagerRoots && key != "trust-bundle.pem" || len(roots) == 1 && key != "ca.crt" {
			t.Errorf("bundle %d: %d roots under %s", i, len(roots), key)
		}
		seen := map[int]bool{}
		for _, r := range roots {
			if seen[r] {
				t.Errorf("bundle %d holds root %d twice", i, r)
			}
			seen[r] = true
			used[r]++
		}
	}
	if sizes[trustManagerRoots] != 200 || sizes[3] != 300 || sizes[1] != 500 || len(used) != caPoolSize {
		t.Errorf("bundle sizes %v, roots used %d of %d", sizes, len(used), caPoolSize)
	}
}
