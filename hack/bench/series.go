package main

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The dashboard figure's data: the series certstatus exports for N Secrets,
// as two replicas export them, without the server. The population is fixed
// (every Secret keeps its state for the 30 days backfilled: the series are
// constant, as real ones are between renewals), so the same values serve
// the OpenMetrics backfill and the live exposition Prometheus scrapes.

// fakeSecret is what one Secret's series say.
type fakeSecret struct {
	namespace, name, issuer string
	state                   string
	// instants: notAfter, notBefore, expiringSoonAt, criticalAt (absent when Invalid).
	instants        [4]int64
	hasInstants     bool
	certificates    [4]int // Valid, ExpiringSoon, Expired, NotYetValid
	hostsNotCovered int
	used            int // 1, 0, or -1: usedBy not synced (the series absent)
}

var (
	secretStateNames      = [...]string{"Valid", "ExpiringSoon", "Expired", "NotYetValid", "Invalid"}
	certificateStateNames = [...]string{"Valid", "ExpiringSoon", "Expired", "NotYetValid"}
	instantFamilies       = [...]string{"certstatus_secret_not_after_seconds", "certstatus_secret_not_before_seconds",
		"certstatus_secret_expiring_soon_at_seconds", "certstatus_secret_critical_at_seconds"}
)

// fakeSecrets is n Secrets in namespaces ns-00.. (200 Secrets each, as the
// list bench spreads them), dated relative to now: 5 % expired, 10 %
// expiring soon, 1 % invalid, 2 % with a host not covered; 70 % used, 20 %
// unused and 10 % whose usedBy has not synced.
func fakeSecrets(n int, now time.Time) []fakeSecret {
	day := int64(24 * 3600)
	t := now.Unix()
	out := make([]fakeSecret, n)
	for i := range out {
		s := fakeSecret{namespace: fmt.Sprintf("ns-%02d", i/200), name: fmt.Sprintf("tls-%05d", i),
			issuer: fmt.Sprintf("Intermediate CA %d", i%8), hasInstants: true, used: 1}
		// A 90-day leaf at a different age for each Secret.
		notAfter := t + 60*day + int64(i%300)*3600
		switch {
		case i%100 == 2:
			s.state, s.hasInstants = "Invalid", false
		case i%20 == 0:
			s.state, notAfter = "Expired", t-int64(1+i%60)*day
		case i%10 == 1:
			s.state, notAfter = "ExpiringSoon", t+int64(1+i%25)*day
		default:
			s.state = "Valid"
		}
		if s.hasInstants {
			s.instants = [4]int64{notAfter, notAfter - 90*day, notAfter - 30*day, notAfter - 7*day}
			for j, state := range certificateStateNames {
				if state == s.state {
					s.certificates[j] = 1 // the leaf
				}
			}
			s.certificates[0] += 2 // intermediate and root
		}
		if i%50 == 3 {
			s.hostsNotCovered = 1
		}
		switch i % 10 {
		case 7, 8:
			s.used = 0
		case 9:
			s.used = -1
		}
		out[i] = s
	}
	return out
}

// seriesWriter writes samples in the Prometheus text format (no
// timestamp: for a scrape) or OpenMetrics (with one).
type seriesWriter struct {
	w   *bufio.Writer
	buf []byte
}

func newSeriesWriter(w io.Writer) *seriesWriter {
	return &seriesWriter{w: bufio.NewWriterSize(w, 1<<20)}
}

func (sw *seriesWriter) family(name string) {
	sw.buf = append(sw.buf[:0], "# TYPE "...)
	sw.buf = append(sw.buf, name...)
	sw.buf = append(sw.buf, " gauge\n"...)
	_, _ = sw.w.Write(sw.buf)
}

// sample writes name{labels} value, without a timestamp; labels are name, value pairs.
func (sw *seriesWriter) sample(name string, value float64, labels ...string) {
	sw.series(name, value, []int64{-1}, labels...)
}

// series writes the samples of one series at each timestamp (< 0: none),
// formatting its name and labels once.
func (sw *seriesWriter) series(name string, value float64, timestamps []int64, labels ...string) {
	b := append(sw.buf[:0], name...)
	b = append(b, '{')
	for i := 0; i+1 < len(labels); i += 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, labels[i]...)
		b = append(b, '=')
		b = strconv.AppendQuote(b, labels[i+1])
	}
	b = append(b, "} "...)
	b = strconv.AppendFloat(b, value, 'g', -1, 64)
	prefix := len(b)
	for _, ts := range timestamps {
		b = b[:prefix]
		if ts >= 0 {
			b = append(b, ' ')
			b = strconv.AppendInt(b, ts, 10)
		}
		b = append(b, '\n')
		_, _ = sw.w.Write(b)
	}
	sw.buf = b
}

func (sw *seriesWriter) flush() error { return sw.w.Flush() }

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// writeSecretFamilies writes every per-Secret family of certstatus for the
// given Secrets, once for each target (the labels a scrape adds: job,
// instance, pod; nil for none), at each of the timestamps (none: one
// sample without a timestamp, for a scrape). Families and series are
// contiguous, as OpenMetrics wants.
func writeSecretFamilies(sw *seriesWriter, secrets []fakeSecret, targets [][]string, timestamps []int64) {
	if len(timestamps) == 0 {
		timestamps = []int64{-1}
	}
	if len(targets) == 0 {
		targets = [][]string{nil}
	}
	var labelBuf []string
	each := func(name string, value float64, labels ...string) {
		for _, target := range targets {
			labelBuf = append(append(labelBuf[:0], labels...), target...)
			sw.series(name, value, timestamps, labelBuf...)
		}
	}
	sw.family("certstatus_secret_state")
	for _, s := range secrets {
		for _, state := range secretStateNames {
			each("certstatus_secret_state", boolFloat(s.state == state), "namespace", s.namespace, "secret", s.name, "state", state)
		}
	}
	for j, family := range instantFamilies {
		sw.family(family)
		for _, s := range secrets {
			if s.hasInstants {
				each(family, float64(s.instants[j]), "namespace", s.namespace, "secret", s.name)
			}
		}
	}
	sw.family("certstatus_secret_info")
	for _, s := range secrets {
		chain := "Verified"
		if !s.hasInstants {
			chain = "Unknown"
		}
		each("certstatus_secret_info", 1, "namespace", s.namespace, "secret", s.name, "secret_type", "kubernetes.io/tls",
			"common_name", s.name+".example.com", "issuer", s.issuer, "chain", chain, "key_pair", "Match", "certificate", s.name, "alerts", "on")
	}
	sw.family("certstatus_secret_certificates")
	for _, s := range secrets {
		for j, state := range certificateStateNames {
			each("certstatus_secret_certificates", float64(s.certificates[j]), "namespace", s.namespace, "secret", s.name, "state", state)
		}
	}
	sw.family("certstatus_secret_hosts_not_covered")
	for _, s := range secrets {
		each("certstatus_secret_hosts_not_covered", float64(s.hostsNotCovered), "namespace", s.namespace, "secret", s.name)
	}
	sw.family("certstatus_secret_used")
	for _, s := range secrets {
		if s.used >= 0 {
			each("certstatus_secret_used", float64(s.used), "namespace", s.namespace, "secret", s.name)
		}
	}
}

// rawSeriesPerReplica counts the series writeSecretFamilies writes for one replica.
func rawSeriesPerReplica(secrets []fakeSecret) int {
	n := 0
	for _, s := range secrets {
		n += len(secretStateNames) + 1 + len(certificateStateNames) + 1
		if s.hasInstants {
			n += len(instantFamilies)
		}
		if s.used >= 0 {
			n++
		}
	}
	return n
}

// recordedSample is one series of the dashboard's recording rules.
type recordedSample struct {
	name   string
	labels []string
	value  float64
}

// recordedSeries is what the dashboard's recording rules
// (internal/monitoring/recording.go) compute from these Secrets. The
// figure checks it against what Prometheus itself records from the live
// scrapes, so a drift between this and the rules fails the bench.
func recordedSeries(secrets []fakeSecret) []recordedSample {
	type key struct{ name, namespace, state string }
	sums := map[key]float64{}
	var keys []key
	add := func(k key, v float64) {
		if _, ok := sums[k]; !ok {
			keys = append(keys, k)
		}
		sums[k] += v
	}
	for _, s := range secrets {
		for _, state := range secretStateNames {
			add(key{"namespace_state:certstatus_secret_state:sum", s.namespace, state}, boolFloat(s.state == state))
		}
		for j, state := range certificateStateNames {
			add(key{"namespace_state:certstatus_secret_certificates:sum", s.namespace, state}, float64(s.certificates[j]))
		}
		if s.used >= 0 {
			add(key{"namespace:certstatus_secret_used:sum", s.namespace, ""}, float64(s.used))
			add(key{"namespace:certstatus_secret_used:count", s.namespace, ""}, 1)
		}
		add(key{"namespace:certstatus_secret_hosts_not_covered:sum", s.namespace, ""}, float64(s.hostsNotCovered))
	}
	// One family after the other, as OpenMetrics wants.
	slices.SortStableFunc(keys, func(a, b key) int { return strings.Compare(a.name, b.name) })
	out := make([]recordedSample, 0, len(keys))
	for _, k := range keys {
		labels := []string{"namespace", k.namespace}
		if k.state != "" {
			labels = append(labels, "state", k.state)
		}
		out = append(out, recordedSample{name: k.name, labels: labels, value: sums[k]})
	}
	return out
}

// writeRecorded writes the recorded series at each timestamp, series contiguous.
func writeRecorded(sw *seriesWriter, recorded []recordedSample, timestamps []int64) {
	last := ""
	for _, r := range recorded {
		if r.name != last {
			sw.family(r.name)
			last = r.name
		}
		sw.series(r.name, r.value, timestamps, r.labels...)
	}
}
