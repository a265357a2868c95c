// Package events records an events.k8s.io/v1 Event when a Secret's
// certificate state changes (opt-in, --events).
//
// Exactly once across replicas and restarts, with no coordination and no
// memory: an Event's name is a function of the object's uid, the reason and
// the transition instant (which is deterministic: every replica computes the
// same lastTransitionTime), the recorder only ever creates, and AlreadyExists
// means another replica or an earlier run recorded it. Transitions older than
// MaxAge are never recorded, so a restart after a long downtime replays no
// history. A registration's caBundle mismatch has no such instant: it is
// named by its Trusted message instead, and dated when observed.
//
// The recorder is fed by the status cache's change stream without blocking
// it: a change becomes a small record in a bounded queue (a full queue drops
// and counts), and workers create Events through a token bucket.
package events
