// Package usedby finds who serves or mounts each Secret (Ingresses, Gateway
// API Gateways and ListenerSets, Istio Gateways, and Pods reported by their
// controlling workload) and judges whether a Secret's leaf certificate covers
// the hosts they serve with it.
//
// Each kind is watched by one informer shared by all requests (Ingresses
// and Pods by a reflector into their own store, the only copy) whose
// transform keeps only names, hosts, owners and counts. An Index joins them into the Secret keys
// they reference and says which keys' users changed. The Index is the status
// cache's Decorator: the cache attaches a Secret's users to its item as it
// enters, and rebuilds the keys the Index signals (statuscache.Rebuilds), so
// the cache knows nothing about where usedBy comes from and nothing here
// reads an item back out of the cache.
package usedby
