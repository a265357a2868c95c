// Package statuscache holds the current object of every listed item of one
// source (CertificateStatus of every Secret holding certificates) and tells
// watchers when one changes. It is generic over the kind's object type
// (CacheOf[T, P], Kind); Cache is the Secret kind's instance.
//
// It is the only state the server has, and all of it can be recomputed from
// the source: the objects, a resourceVersion counter, a bounded history of
// recent changes (so a watch can resume from a list's resourceVersion), and a
// queue of the instants at which the clock alone changes an object (notBefore,
// expiringSoonAt, notAfter). The source's informers feed Upsert and Delete;
// a Decorator (usedBy) adds what other sources know as items enter, and
// signals keys to rebuild through Rebuilds; every watcher is served from here.
//
// Vocabulary: a record is a change as the history remembers it (entries, no
// objects); a Change is one with its objects built, as watchers deliver it
// and subscribers get it; a watch.Event is what a watcher sends its client
// after its selectors (ADDED, MODIFIED, DELETED, BOOKMARK).
package statuscache
