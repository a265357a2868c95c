package statuscache

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strconv"
)

// ResourceVersion orders the cache's changes. It is opaque to clients.
type ResourceVersion uint64

func (rv ResourceVersion) String() string { return strconv.FormatUint(uint64(rv), 10) }

// counterBits is how many low bits of a resourceVersion count changes; the
// bits above hold the process's epoch. 2^40 changes outlast any process.
const counterBits = 40

// epochBits keeps resourceVersions below 2^63, so they also fit the int64 of
// continue tokens.
const epochBits = 63 - counterBits

// resourceVersions hands out increasing resourceVersions, each carrying this
// process's epoch: a random number drawn at start. A restarted server or
// another replica has another epoch, so a resourceVersion it gave out is
// recognised as foreign, whatever its value, and answers 410 Gone rather
// than being mistaken for a point in this process's history.
type resourceVersions struct {
	epoch       uint64
	first, last ResourceVersion
}

func newResourceVersions(epoch uint64) resourceVersions {
	first := ResourceVersion(epoch << counterBits)
	return resourceVersions{epoch: epoch, first: first, last: first}
}

// randomEpoch draws a nonzero epoch.
func randomEpoch() uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("read random epoch: %v", err)) // crypto/rand does not fail on Linux
	}
	return binary.BigEndian.Uint64(b[:])%(1<<epochBits-1) + 1
}

func (r *resourceVersions) next() ResourceVersion {
	r.last++
	return r.last
}

func (r *resourceVersions) current() ResourceVersion { return r.last }

// ours tells whether rv was given out by this process.
func (r *resourceVersions) ours(rv ResourceVersion) bool {
	return uint64(rv)>>counterBits == r.epoch && rv <= r.last
}

// ParseResourceVersion reads a resourceVersion given by a client.
// The empty string and "0" mean "any" and parse as 0.
func ParseResourceVersion(s string) (ResourceVersion, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("resourceVersion %q is not a number this server gave out", s)
	}
	return ResourceVersion(n), nil
}

// servable tells whether events after rv can be replayed: rv must be one this
// process gave out, no older than the oldest event it still remembers.
func (c *CacheOf[T, P]) servable(rv ResourceVersion) bool {
	if !c.rv.ours(rv) {
		return false
	}
	oldest, ok := c.history.oldest()
	return !ok || rv >= oldest-1
}
