// Package statuscache holds the current CertificateStatus of every listed
// Secret and tells watchers when one changes.
//
// It is the only state the server has, and all of it can be recomputed from
// the Secrets: the objects, a resourceVersion counter, a bounded history of
// recent changes (so a watch can resume from a list's resourceVersion), and a
// queue of the instants at which the clock alone changes an object (notBefore,
// expiringSoonAt, notAfter). The Secret informers (one cluster-wide, or one
// per watched namespace) feed Upsert and Delete; every watcher is served
// from here.
//
// Vocabulary: a record is a change as the history remembers it (entries, no
// objects); a Change is one with its objects built, as watchers deliver it
// and subscribers get it; a watch.Event is what a watcher sends its client
// after its selectors (ADDED, MODIFIED, DELETED, BOOKMARK).
package statuscache
