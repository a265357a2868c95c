package main

import (
	"fmt"
	"time"
)

// Targets of issue #27 parts 3 and 5 that are not list ratios.
const (
	fanOutTarget     = 100 * time.Millisecond
	fanOutPeerTarget = 1.2
	growthPeerTarget = 0.25
	growthTarget     = 32 << 20
	availableTarget  = 3 * time.Second
	linearTarget     = 1.2
	linearBase       = 10000
)

// mixSummary writes the summary rows of every mix: the list ratios, the
// memory under lists, the fan-out and the start-up.
func mixSummary(p func(string, ...any), r *results) {
	for _, fig := range mixesOrLists(r) {
		mix := mixSuffix(fig.Mix)
		if c := listRow(fig.Lists, "typed"); c.Peer.Runs > 0 {
			direct := listRow(fig.Lists, "typed-direct")
			share := "the aggregator's share ≈ " + ms(c.Ours.Median-direct.Ours.Median)
			if c.Ours.Median < direct.Ours.Median {
				share = "the aggregator's share within the spread between runs"
			}
			p("| typed-client list (protobuf) ≤ 1.0× client-go's protobuf Secret list, through the aggregator%s | %s against %s: **%.2f×**; straight to certstatus %s: %.2f× (%s); CPU per list: certstatus %s, kube-apiserver %s, against kube-apiserver %s | %s |\n",
				mix, ms(c.Ours.Median), ms(c.Peer.Median), c.Ratio(), ms(direct.Ours.Median), direct.Ratio(),
				share, ms(c.OursCPU.Certstatus), ms(c.OursCPU.KubeAPIServer), ms(c.PeerCPU.KubeAPIServer), verdict(c.Ratio() <= c.Target))
		}
		for _, key := range []string{"raw-gzip", "raw-plain"} {
			c := listRow(fig.Lists, key)
			if c.Peer.Runs == 0 {
				continue
			}
			extra := ""
			if key == "raw-plain" {
				if d := listRow(fig.Lists, "raw-plain-direct"); d.Peer.Runs > 0 {
					extra = fmt.Sprintf("; straight to certstatus %s: %.2f×", ms(d.Ours.Median), d.Ratio())
				}
			}
			p("| raw list ≤ 0.5×, %s%s | %s against %s: **%.2f×**%s; CPU per list: certstatus %s + kube-apiserver %s, against %s | %s |\n",
				c.Name, mix, ms(c.Ours.Median), ms(c.Peer.Median), c.Ratio(), extra,
				ms(c.OursCPU.Certstatus), ms(c.OursCPU.KubeAPIServer), ms(c.PeerCPU.KubeAPIServer), verdict(c.Ratio() <= c.Target))
		}
		for _, key := range []string{"curl-plain", "curl-gzip"} {
			if c := listRow(fig.Lists, key); c.Peer.Runs > 0 {
				p("| %s%s (reported: the way the issue measured) | %s against %s: %.2f× (%s / %s on the wire) | — |\n", c.Name, mix, ms(c.Ours.Median), ms(c.Peer.Median), c.Ratio(), size(c.OursBytes), size(c.PeerBytes))
			}
		}
		if c := listRow(fig.Lists, "table"); c.Peer.Runs > 0 {
			extra := ""
			if c.OursThrottled > 0 || c.PeerThrottled > 0 {
				extra = fmt.Sprintf("; of which kubectl's client-side rate limiter (5 requests a second after 10, pages of 500) held its requests %s / %s", ms(c.OursThrottled), ms(c.PeerThrottled))
			}
			if u := listRow(fig.Lists, "table-unpaged"); u.Peer.Runs > 0 {
				extra += fmt.Sprintf("; in one request (`--chunk-size=0`): %s against %s, %.2f×", ms(u.Ours.Median), ms(u.Peer.Median), u.Ratio())
			}
			p("| kubectl table ≤ 0.9×%s | %s against %s: **%.2f×**%s | %s |\n", mix, ms(c.Ours.Median), ms(c.Peer.Median), c.Ratio(), extra, verdict(c.Ratio() <= c.Target))
		}
		if c := listRow(fig.Lists, "json"); c.Peer.Runs > 0 {
			p("| `kubectl get -o json` (reported beside the bytes kubectl decodes)%s | %s against %s: %.2f×, for %s against %s of output: %.2f× the bytes | — |\n", mix,
				ms(c.Ours.Median), ms(c.Peer.Median), c.Ratio(), size(c.OursBytes), size(c.PeerBytes), float64(c.OursBytes)/float64(max(c.PeerBytes, 1)))
		}
		if ours, peer := fig.Memory.growth(); peer > 0 {
			p("| certstatus RSS growth under lists ≤ 0.25× kube-apiserver's and ≤ 32 MiB%s | %s against %s: %.2f× | %s |\n", mix, size(ours), size(peer),
				float64(ours)/float64(peer), verdict(float64(ours) <= growthPeerTarget*float64(peer) && ours <= growthTarget))
		}
		for _, m := range fig.Settings {
			p("| the same lists from a fresh start, %s%s (reported) | RSS %s after the start, peak %s: growth %s | — |\n", m.Setting, mix,
				size(m.StartRSS), size(max(m.Lists.PeakRSS, m.Lists.After.RSS)), size(m.growth()))
		}
		if w := fig.Watch; w != nil && w.Watchers > 0 {
			direct, peer := "", ""
			if w.Direct != nil {
				direct = fmt.Sprintf("; straight to certstatus p99 %s", ms(w.Direct.Latency.P99))
			}
			peerP99 := time.Duration(0)
			if w.Peer != nil {
				peerP99 = w.Peer.Latency.P99
				peer = fmt.Sprintf("; kube-apiserver's own Secret watch, same clients: p99 %s", ms(peerP99))
			}
			p("| fan-out p99 ≤ 100 ms, %d typed (protobuf) watchers through the aggregator%s | p99 %s per delivery (every watcher had it: p99 %s)%s%s | %s |\n",
				w.Watchers, mix, ms(w.Latency.P99), ms(w.Slowest.P99), direct, peer, verdict(w.Latency.P99 <= fanOutTarget && w.Missing == 0))
			if peerP99 > 0 {
				ratio := float64(w.Latency.P99) / float64(peerP99)
				p("| fan-out p99 ≤ 1.2× kube-apiserver's own Secret watch%s | %.2f× (%s against %s) | %s |\n", mix, ratio, ms(w.Latency.P99), ms(peerP99), verdict(ratio <= fanOutPeerTarget))
			}
		}
		if s := fig.Startup; s != nil && s.Available.Runs > 0 {
			p("| Available ≤ 3 s after start with N Secrets%s | median %s (p90 %s); certstatus CPU to Available %s (kube-apiserver's meanwhile %s; load %s) | %s |\n",
				mix, ms(s.Available.Median), ms(s.Available.P90), ms(s.CPU.Median), ms(s.PeerCPU.Median), s.Load, verdict(s.Available.P90 <= availableTarget))
		}
	}
	// Results of runs before per-mix fan-out and start-up figures.
	if len(r.Mixes) == 0 || r.Mixes[0].Startup == nil {
		if s := r.Startup; s.Available.Runs > 0 {
			p("| Available ≤ 3 s after start | median %s (p90 %s) | %s |\n", ms(s.Available.Median), ms(s.Available.P90), verdict(s.Available.P90 <= availableTarget))
		}
	}
}

// linearSummary is the target of issue #27 part 4: list time per object at
// the largest N ≤ 1.2× what it is at 10 000 (or the smallest size measured).
func linearSummary(p func(string, ...any), r *results) {
	base, top := linearPoints(r)
	if base == nil || top == nil || base == top {
		return
	}
	ratio := perObject(top.Typed.Ours.Median, top.N) / perObject(base.Typed.Ours.Median, base.N)
	p("| typed list time per object at N = %d ≤ 1.2× at N = %d | %.1f µs against %.1f µs: %.2f× | %s |\n", top.N, base.N,
		perObject(top.Typed.Ours.Median, top.N), perObject(base.Typed.Ours.Median, base.N), ratio, verdict(ratio <= linearTarget))
}

// linearPoints are the sweep's point at 10 000 (or its smallest) and its
// largest, when the sweep timed the typed list.
func linearPoints(r *results) (base, top *sweepPoint) {
	for i := range r.Sweep {
		pt := &r.Sweep[i]
		if pt.Typed == nil {
			continue
		}
		if base == nil || pt.N == linearBase {
			base = pt
		}
		if top == nil || pt.N > top.N {
			top = pt
		}
	}
	return base, top
}

// renderLinear is the section of the sweep with --sweep-full.
func renderLinear(p func(string, ...any), r *results) {
	base, _ := linearPoints(r)
	if base == nil {
		return
	}
	p("\n## Linear cost: 1 point per N\n\n")
	p("At each N on the way up: two restarts (Available, and the server's CPU when it was), the heap after a forced GC, the typed protobuf list through the aggregator against client-go's protobuf Secret list (%d runs after a warm-up), and a fan-out of %d writes to %d protobuf watchers through the aggregator beside kube-apiserver's own Secret watch.\n\n",
		base.Typed.Ours.Runs, r.Sweep[len(r.Sweep)-1].writes(), r.Sweep[len(r.Sweep)-1].Watchers)
	p("| N | Available (median) | CPU to Available | heap in use per Secret | typed list | per object | ÷ per object at N = %d | certstatus CPU per list | client-go Secret list | ratio | kube-apiserver CPU per Secret list | kubectl table per object | fan-out p99 | peer p99 |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n", base.N)
	for _, pt := range r.Sweep {
		if pt.Typed == nil {
			continue
		}
		avail, cpu := "–", "–"
		if pt.Startup != nil {
			avail, cpu = ms(pt.Startup.Available.Median), ms(pt.Startup.CPU.Median)
		}
		fan, peer := "–", "–"
		if pt.FanOut != nil {
			fan = ms(pt.FanOut.Latency.P99)
		}
		if pt.PeerFanOut != nil {
			peer = ms(pt.PeerFanOut.Latency.P99)
		}
		table := "–"
		if pt.CSTTable.Runs > 0 {
			table = fmt.Sprintf("%.1f µs", perObject(pt.CSTTable.Median, pt.N))
		}
		p("| %d | %s | %s | %.0f B | %s | %.1f µs | %.2f× | %s | %s | %.2f× | %s | %s | %s | %s |\n", pt.N, avail, cpu,
			perSecret(pt.Memory.HeapInuse, r.Memory.Empty.HeapInuse, pt.N), ms(pt.Typed.Ours.Median), perObject(pt.Typed.Ours.Median, pt.N),
			perObject(pt.Typed.Ours.Median, pt.N)/perObject(base.Typed.Ours.Median, base.N), ms(pt.Typed.OursCPU.Certstatus), ms(pt.Typed.Peer.Median), pt.Typed.Ratio(),
			ms(pt.Typed.PeerCPU.KubeAPIServer), table, fan, peer)
	}
}

// writes is the number of writes of the point's fan-out.
func (pt sweepPoint) writes() int {
	if pt.FanOut == nil {
		return 0
	}
	return pt.FanOut.WriteCount
}
