package main

import (
	"encoding/json"
	"os"
	"time"
)

// results is everything one run measured; results.json holds it verbatim.
type results struct {
	Command    string        `json:"command"`
	Machine    string        `json:"machine"`
	LoadBefore string        `json:"loadBefore"`
	LoadAfter  string        `json:"loadAfter"`
	Started    time.Time     `json:"started"`
	Duration   time.Duration `json:"duration"`
	Secrets    int           `json:"secrets"`
	// GC is certstatus's garbage collector settings in this run.
	GC string `json:"gc"`
	// Figures are the figures this run measured (not skipped); empty in
	// results from before it was recorded, which measured the main ones.
	Figures []string `json:"figures,omitempty"`

	// Load is certstatus's and kube-apiserver's memory while the Secrets
	// were created and listed until all were there, with the binary's
	// defaults (no GOMEMLIMIT), one entry per step up to N.
	Load       []loadFigure      `json:"load"`
	Sweep      []sweepPoint      `json:"sweep"`
	Lists      []comparison      `json:"lists"`
	Mixes      []mixFigure       `json:"mixes"`
	ClientSide comparison        `json:"clientSide"`
	Memory     memoryFigure      `json:"memory"`
	Startup    startupFigure     `json:"startup"`
	Keystores  *keystoreFigure   `json:"keystores,omitempty"`
	Watch      watchFigure       `json:"watch"`
	Clock      clockFigure       `json:"clock"`
	Events     eventsFigure      `json:"events"`
	Metrics    []scrapeFigure    `json:"metrics"`
	UsedBy     *usedByFigure     `json:"usedBy,omitempty"`
	ConfigMaps *configMapsFigure `json:"configMaps,omitempty"`
	Dashboard  *dashboardFigure  `json:"dashboard,omitempty"`
	Profiles   []string          `json:"profiles"`
}

type memory struct {
	HeapInuse int64 `json:"heapInuse"`
	HeapAlloc int64 `json:"heapAlloc"`
	// HeapLive is what the last (forced) GC marked live: unlike HeapAlloc
	// it does not count what was allocated since, such as the scrape that
	// reads it (0 in results from before it was recorded).
	HeapLive int64 `json:"heapLive,omitempty"`
	RSS      int64 `json:"rss"`
}

// live is HeapLive, or HeapAlloc for results that lack it.
func (m memory) live() int64 {
	if m.HeapLive > 0 {
		return m.HeapLive
	}
	return m.HeapAlloc
}

// sweepPoint is one size on the way up to N.
type sweepPoint struct {
	N                int    `json:"n"`
	Memory           memory `json:"memory"`
	KubeAPIServerRSS int64  `json:"kubeAPIServerRSS"`
	CSTTable         stats  `json:"cstTable"`
	SecretsTable     stats  `json:"secretsTable"`
	// With --sweep-full: start-up, the typed protobuf list against
	// client-go's Secret list, and the fan-out (protobuf watchers through
	// the aggregator, and kube-apiserver's own Secret watch).
	Startup    *startupFigure `json:"startup,omitempty"`
	Typed      *comparison    `json:"typed,omitempty"`
	Watchers   int            `json:"watchers,omitempty"`
	FanOut     *fanOutRun     `json:"fanOut,omitempty"`
	PeerFanOut *fanOutRun     `json:"peerFanOut,omitempty"`
}

// comparison is a certstatus figure next to its kube-apiserver peer.
type comparison struct {
	// Key names the row for the summary and listTargets ("table", "typed", ...).
	Key       string `json:"key,omitempty"`
	Name      string `json:"name"`
	Ours      stats  `json:"ours"`
	Peer      stats  `json:"peer"`
	OursLabel string `json:"oursLabel"`
	PeerLabel string `json:"peerLabel"`
	// Bytes is the response or output size; MaxRSS kubectl's peak memory.
	OursBytes  int64 `json:"oursBytes,omitempty"`
	PeerBytes  int64 `json:"peerBytes,omitempty"`
	OursMaxRSS int64 `json:"oursMaxRSS,omitempty"`
	PeerMaxRSS int64 `json:"peerMaxRSS,omitempty"`
	OursItems  int   `json:"oursItems,omitempty"`
	PeerItems  int   `json:"peerItems,omitempty"`
	// OursThrottled and PeerThrottled: how long kubectl's client-side rate
	// limiter held its requests back in one run (kubectl rows only).
	OursThrottled time.Duration `json:"oursThrottled,omitempty"`
	PeerThrottled time.Duration `json:"peerThrottled,omitempty"`
	// Target is the ratio goal, 0 for none.
	Target float64 `json:"target,omitempty"`
	// OursCPU and PeerCPU: both servers' CPU per timed run of each side.
	OursCPU serverCPU `json:"oursCPU"`
	PeerCPU serverCPU `json:"peerCPU"`
}

func (c comparison) Ratio() float64 {
	if c.Peer.Median == 0 {
		return 0
	}
	return float64(c.Ours.Median) / float64(c.Peer.Median)
}

type memoryFigure struct {
	Empty  memory `json:"empty"`
	Loaded memory `json:"loaded"`
	// Restarted is a server started with N Secrets present (after the start-up figure).
	Restarted         memory `json:"restarted"`
	KubeAPIServerRSS0 int64  `json:"kubeAPIServerRSS0"`
	KubeAPIServerRSSN int64  `json:"kubeAPIServerRSSN"`
}

type startupFigure struct {
	Ready     stats `json:"ready"`
	Available stats `json:"available"`
	// CPU is the server process's user+sys when it was Available; PeerCPU
	// kube-apiserver's over the same restarts (the aggregator's probes and
	// the server's list of Secrets); Load the load average after them.
	CPU     stats  `json:"cpu"`
	PeerCPU stats  `json:"peerCPU"`
	Load    string `json:"load,omitempty"`
	// Unavailable is how many times the APIService was seen not Available
	// while the server was down (the aggregator only marks it after a probe).
	SeenUnavailable int `json:"seenUnavailable"`
}

type watchFigure struct {
	Watchers              int `json:"watchers"`
	Writes                int `json:"writes"`
	BaselineSecretWatches int `json:"baselineSecretWatches"`
	SecretWatches         int `json:"secretWatches"`
	// The certstatus run (protobuf, the typed client's default); Peer is the
	// same writes watched as Secrets on kube-apiserver.
	fanOutRun
	// Direct is the same protobuf watchers straight to certstatus.
	Direct *fanOutRun `json:"direct,omitempty"`
	// CBOR is certstatus again, with clients that ask for CBOR.
	CBOR *fanOutRun `json:"cbor,omitempty"`
	Peer *fanOutRun `json:"peer,omitempty"`
}

// fanOutRun is one fan-out: W watches, every write timed at each of them.
type fanOutRun struct {
	Establish time.Duration `json:"establish"`
	// WriteCount is how many writes were timed.
	WriteCount int `json:"writeCount,omitempty"`
	// Latency is over every (write, watcher) delivery; Slowest over the
	// latest watcher of each write (the write reached everyone).
	Latency    stats `json:"latency"`
	Slowest    stats `json:"slowest"`
	Deliveries int   `json:"deliveries"`
	Missing    int   `json:"missing"`
	Closed     int   `json:"closed"`
	RSSDuring  int64 `json:"rssDuring"`
	HeapDuring int64 `json:"heapDuring"`
	// CPUPerWrite is each process's CPU time during the writes divided by
	// their number: where the fan-out's time goes.
	CPUPerWrite []processCPU `json:"cpuPerWrite,omitempty"`
}

type processCPU struct {
	Process string        `json:"process"`
	CPU     time.Duration `json:"cpu"`
}

type clockFigure struct {
	Certificates int           `json:"certificates"`
	Received     int           `json:"received"`
	First        time.Duration `json:"first"`
	Last         time.Duration `json:"last"`
	Rewatches    int           `json:"rewatches"`
}

// eventsFigure is the clock burst on a server with --events.
type eventsFigure struct {
	Certificates int `json:"certificates"`
	// Events is how many Expired Events exist at the end, AllEvents how long
	// after notAfter the last one appeared (polled every 0.5 s).
	Events    int           `json:"events"`
	AllEvents time.Duration `json:"allEvents"`
	// Modified and LastModified: the watcher's MODIFIED events meanwhile.
	Modified     int           `json:"modified"`
	LastModified time.Duration `json:"lastModified"`
}

func (r *results) writeJSON(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// loadFigure is one loading step: Secrets From..To created, and certstatus
// listed through the aggregator every 0.5 s until it had them all.
type loadFigure struct {
	From    int           `json:"from"`
	To      int           `json:"to"`
	Took    time.Duration `json:"took"`
	Setting string        `json:"setting"`
	loadMemory
}

// loadMemory is both servers' RSS before and at their peak during a phase,
// and certstatus's heap peak (gctrace) and collections.
type loadMemory struct {
	Before      memorySnapshot `json:"before"`
	PeakRSS     int64          `json:"peakRSS"`
	PeakPeerRSS int64          `json:"peakPeerRSS"`
	PeakHeap    int64          `json:"peakHeap"`
	GCs         int            `json:"gcs"`
}
