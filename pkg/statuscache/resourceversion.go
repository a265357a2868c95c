package statuscache

import (
	"fmt"
	"strconv"
	"time"
)

// ResourceVersion orders the cache's changes. It is opaque to clients.
type ResourceVersion uint64

func (rv ResourceVersion) String() string { return strconv.FormatUint(uint64(rv), 10) }

// resourceVersions hands out increasing resourceVersions. The first one is
// the start time in milliseconds times 1000, so a restarted server (or a
// replica started later) never reuses a number an earlier process gave out,
// as long as it gave out fewer than 1000 per millisecond of its life. A
// resourceVersion from another process is therefore either below this
// process's first one or above its current one, and answers 410 Gone.
type resourceVersions struct {
	first, last ResourceVersion
}

func newResourceVersions(start time.Time) resourceVersions {
	first := ResourceVersion(start.UnixMilli()) * 1000
	return resourceVersions{first: first, last: first}
}

func (r *resourceVersions) next() ResourceVersion {
	r.last++
	return r.last
}

func (r *resourceVersions) current() ResourceVersion { return r.last }

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
func (c *Cache) servable(rv ResourceVersion) bool {
	if rv < c.rv.first || rv > c.rv.current() {
		return false
	}
	oldest, ok := c.history.oldest()
	return !ok || rv >= oldest-1
}
