package certificate

import (
	"slices"
	"sort"
	"time"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// segment is a stretch of time with one Secret state, from start (the zero
// time for the first segment: "always") to the next segment's start.
type segment struct {
	start time.Time
	state certstatus.State
}

// timeline is the Secret's state over all time, adjacent equal states
// merged, so a segment's start is the instant the current state began.
type timeline []segment

func (t timeline) at(now time.Time) segment {
	// The first segment whose start is after now ends the search.
	i := sort.Search(len(t), func(i int) bool { return now.Before(t[i].start) })
	return t[max(i-1, 0)]
}

func (t timeline) appendState(start time.Time, state certstatus.State) timeline {
	if len(t) > 0 && t[len(t)-1].state == state {
		return t
	}
	return append(t, segment{start: start, state: state})
}

// chainSegmentAt is the segment of a chain's timeline that holds now,
// found without building the timeline: the current state began at the
// latest boundary not after now before which the state differed, or
// always if there is none. Adjacent equal states merge as in a timeline,
// so an unusual chain whose window opens before notBefore still dates right.
func chainSegmentAt(v validity, now time.Time) segment {
	current := segment{state: v.stateAt(now)}
	began := false
	for _, boundary := range [...]time.Time{v.notBefore, v.expiringSoonAt, v.notAfter} {
		if !boundary.After(now) && (!began || boundary.After(current.start)) &&
			v.stateAt(boundary.Add(-time.Nanosecond)) != current.state {
			current.start, began = boundary, true
		}
	}
	return current
}

// bundleTimeline sweeps the members' boundaries in time order, keeping a
// count of members per state, so it is O(n log n) for large bundles.
func bundleTimeline(members []validity) timeline {
	type event struct {
		at   time.Time
		from certstatus.State
		to   certstatus.State
	}
	counts := map[certstatus.State]int{}
	events := make([]event, 0, 3*len(members))
	for _, m := range members {
		instants := sortedUnique([]time.Time{m.notBefore, m.expiringSoonAt, m.notAfter})
		state := m.stateAt(instants[0].Add(-time.Nanosecond))
		counts[state]++
		for _, instant := range instants {
			next := m.stateAt(instant)
			if next != state {
				events = append(events, event{at: instant, from: state, to: next})
				state = next
			}
		}
	}
	slices.SortFunc(events, func(a, b event) int { return a.at.Compare(b.at) })
	t := timeline{}.appendState(time.Time{}, bundleState(counts, len(members)))
	for i := 0; i < len(events); {
		at := events[i].at
		for ; i < len(events) && events[i].at.Equal(at); i++ {
			counts[events[i].from]--
			counts[events[i].to]++
		}
		t = t.appendState(at, bundleState(counts, len(members)))
	}
	return t
}

// bundleState: Valid while one member is valid and not expiring soon,
// ExpiringSoon when every valid member is, Expired when all are,
// NotYetValid when none is valid yet.
func bundleState(counts map[certstatus.State]int, total int) certstatus.State {
	switch {
	case counts[certstatus.StateValid] > 0:
		return certstatus.StateValid
	case counts[certstatus.StateExpiringSoon] > 0:
		return certstatus.StateExpiringSoon
	case counts[certstatus.StateExpired] == total:
		return certstatus.StateExpired
	default:
		return certstatus.StateNotYetValid
	}
}

func sortedUnique(instants []time.Time) []time.Time {
	slices.SortFunc(instants, func(a, b time.Time) int { return a.Compare(b) })
	return slices.CompactFunc(instants, func(a, b time.Time) bool { return a.Equal(b) })
}
