package main

import (
	"time"
)

// The usedby step's part of the report: summary rows and its own section.

// usedBySummary adds the usedBy targets to the summary table.
func usedBySummary(p func(string, ...any), r *results) {
	f := r.UsedBy
	if f == nil {
		return
	}
	perIngress, perPod := f.perIngress(), f.perPod()
	p("| usedBy: ≤ 300 B heap per Ingress and per Pod | %.0f B per Ingress, %.0f B per Pod (live heap marked by a forced GC) | %s |\n",
		perIngress, perPod, verdict(perIngress <= 300 && perPod <= 300))
	for i, c := range f.Lists {
		if i > 0 {
			// Issue #15's target is the default table against `kubectl get
			// secrets -A`; `-o wide` (10 more columns the API defines, which
			// Secrets do not have) is reported beside it.
			p("| usedBy: `-o wide` with %d Ingresses and %d Pods present (reported, not a target) | %.2f× (%s) | — |\n", f.Ingresses, f.Pods, c.Ratio(), c.Name)
			continue
		}
		p("| usedBy: list ≤ 1.0× with %d Ingresses and %d Pods present | %.2f× (%s) | %s |\n", f.Ingresses, f.Pods, c.Ratio(), c.Name, verdict(c.Ratio() <= 1.0))
	}
	if f.Available.Runs > 0 {
		p("| usedBy: Available ≤ 3 s after start with everything present | median %s (p90 %s); usedBy complete after %s | %s |\n",
			ms(f.Available.Median), ms(f.Available.P90), ms(f.Complete.Median), verdict(f.Available.P90 <= 3*time.Second))
	}
	if f.IngressChange.Runs > 0 {
		p("| usedBy: Ingress change → MODIFIED ≤ 1 s | max %s of %d | %s |\n", ms(f.IngressChange.Max), f.IngressChange.Runs,
			verdict(f.ChangesMissed == 0 && f.IngressChange.Max <= time.Second))
	}
}

// perIngress and perPod are live heap added per object: what a forced GC
// marked live (go_gc_heap_live_bytes). go_memstats_heap_alloc_bytes also
// counts what was allocated between that GC and the scrape reading it,
// which moved the figure by tens of bytes per object from run to run.
func (f *usedByFigure) perIngress() float64 {
	return perSecret(f.WithIngresses.live(), f.Base.live(), f.Ingresses)
}

func (f *usedByFigure) perPod() float64 {
	return perSecret(f.WithPods.live(), f.WithIngresses.live(), f.Pods)
}

// renderUsedBy is the usedBy section.
func renderUsedBy(p func(string, ...any), r *results) {
	f := r.UsedBy
	if f == nil {
		return
	}
	p("\n## 8. usedBy: %d Ingresses and %d Pods beside the %d Secrets\n\n", f.Ingresses, f.Pods, r.Secrets)
	p("Ingress i serves Secret i mod N (one TLS entry, the leaf's own name as host); %d Deployments of %d Pods each "+
		"(Deployment → ReplicaSet → Pods, owner references written as the controllers would; no kubelet runs them) "+
		"each mount one Secret. certstatus runs with the default `--used-by` (Ingress, Gateway, Pod; no Gateway CRDs installed).\n\n",
		f.Deployments, podsPerDeployment)
	p("Memory from certstatus's `/metrics` after a forced GC (pprof `gc=1`, twice), before and after loading each kind; the per-object figures " +
		"use the live heap that GC marked (`go_gc_heap_live_bytes`); " +
		"\"per Pod\" includes a third of a ReplicaSet's metadata. Load time is from the first create to a list naming every one of them.\n\n")
	if f.History > 0 {
		p("The watch history (`--watch-history-size`, %d changes) is bounded by a count, not per object, and loading a kind fills it "+
			"with the MODIFIED events of its Secrets and the versions they replaced. So before each column below, %d label changes of %d "+
			"filler Secrets (expired leaves without a CA: no clock transition queued) refilled it (`certstatus_watch_history_length` "+
			"checked at its bound): the three columns hold the same history, and the per-object figures exclude it. They include the "+
			"rest of what a load adds: the stores and the index, each used Secret's decorated analysis (`usedBy`, HostsCovered), and "+
			"the clock transition each MODIFIED of a Secret queues until it is due. Live heap right after each load, before the refill "+
			"(history as the load left it): %s with the Ingresses, %s with the Pods.\n\n",
			f.History, f.History, historyFillers, size(f.IngressesLoaded.HeapAlloc), size(f.PodsLoaded.HeapAlloc))
	} else {
		p("These figures include the watch history the loads filled (a run from before the history was refilled for them).\n\n")
	}
	p("| | Secrets only | + Ingresses | per Ingress | + Deployments' Pods | per Pod |\n|---|---|---|---|---|---|\n")
	p("| live heap, marked by a forced GC (`go_gc_heap_live_bytes`) | %s | %s | **%.0f B** | %s | **%.0f B** |\n", size(f.Base.live()), size(f.WithIngresses.live()), f.perIngress(), size(f.WithPods.live()), f.perPod())
	p("| heap allocated (`go_memstats_heap_alloc_bytes`, also what was allocated since that GC) | %s | %s | %.0f B | %s | %.0f B |\n", size(f.Base.HeapAlloc), size(f.WithIngresses.HeapAlloc),
		perSecret(f.WithIngresses.HeapAlloc, f.Base.HeapAlloc, f.Ingresses), size(f.WithPods.HeapAlloc), perSecret(f.WithPods.HeapAlloc, f.WithIngresses.HeapAlloc, f.Pods))
	p("| heap in use | %s | %s | %.0f B | %s | %.0f B |\n", size(f.Base.HeapInuse), size(f.WithIngresses.HeapInuse),
		perSecret(f.WithIngresses.HeapInuse, f.Base.HeapInuse, f.Ingresses), size(f.WithPods.HeapInuse), perSecret(f.WithPods.HeapInuse, f.WithIngresses.HeapInuse, f.Pods))
	p("| RSS | %s | %s | %.0f B | %s | %.0f B |\n", size(f.Base.RSS), size(f.WithIngresses.RSS),
		perSecret(f.WithIngresses.RSS, f.Base.RSS, f.Ingresses), size(f.WithPods.RSS), perSecret(f.WithPods.RSS, f.WithIngresses.RSS, f.Pods))
	p("| created and all in usedBy after | | %s | | %s | |\n", ms(f.IngressLoad), ms(f.PodLoad))
	if len(f.Lists) > 0 {
		p("\n| list, everything present | certstatus median | p90 | peer | median | p90 | ratio | bytes, certstatus / peer |\n|---|---|---|---|---|---|---|---|\n")
		for _, c := range f.Lists {
			p("| %s | %s | %s | %s | %s | %s | **%.2f×** | %s / %s |\n", c.OursLabel, ms(c.Ours.Median), ms(c.Ours.P90), c.PeerLabel, ms(c.Peer.Median), ms(c.Peer.P90), c.Ratio(), size(c.OursBytes), size(c.PeerBytes))
		}
	}
	if f.Available.Runs > 0 {
		p("\nStart-up with everything present (%d restarts; readiness waits for the Secrets only, usedBy fills in afterwards). "+
			"\"usedBy complete\" is when the first list (direct, back to back) that named every Ingress and Pod was asked for.\n\n", f.Available.Runs)
		p("| | median | p90 | max |\n|---|---|---|---|\n")
		p("| own `/readyz` answers 200 | %s | %s | %s |\n", ms(f.Ready.Median), ms(f.Ready.P90), ms(f.Ready.Max))
		p("| APIService Available and a list through kube-apiserver answers 200 | %s | %s | %s |\n", ms(f.Available.Median), ms(f.Available.P90), ms(f.Available.Max))
		p("| usedBy complete | %s | %s | %s |\n", ms(f.Complete.Median), ms(f.Complete.P90), ms(f.Complete.Max))
	}
	if c := f.IngressChange; c.Runs > 0 {
		p("\nIngress change → watch event: %d merge-patches of one Ingress's TLS hosts, each timed from just before the PATCH to the MODIFIED of its Secret's "+
			"CertificateStatus at a typed watch through the aggregator: median %s, p90 %s, max %s; %d missed.\n", c.Runs, ms(c.Median), ms(c.P90), ms(c.Max), f.ChangesMissed)
	}
	if ro := f.Rollout; ro.Pods > 0 {
		p("\nRollout churn: every Pod of a %d-Pod Deployment replaced one at a time (new ReplicaSet; a new Pod created, then an old one deleted: %d writes in %s). "+
			"Each write changes the Deployment's Pod count in usedBy, so each may be one MODIFIED.\n\n", ro.Pods, ro.Writes, ms(ro.Duration))
		p("| MODIFIED of the Secret | MODIFIED of others | certstatus CPU | kube-apiserver CPU | etcd CPU | the bench |\n|---|---|---|---|---|---|\n")
		p("| %d | %d | %s | %s | %s | %s |\n", ro.Modified, ro.Other, ms(cpuOf(ro.CPU, "certstatus")), ms(cpuOf(ro.CPU, "kube-apiserver")), ms(cpuOf(ro.CPU, "etcd")), ms(cpuOf(ro.CPU, "bench")))
		if ro.Writes > 0 {
			p("\ncertstatus CPU per Pod write: %s.\n", ms(cpuOf(ro.CPU, "certstatus")/time.Duration(ro.Writes)))
		}
	}
}
