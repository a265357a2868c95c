package usedby

import "github.com/certstatus/certstatus/pkg/statuscache"

// Decorate is the index as the status cache's decorator: a Secret's
// analysis with the snapshot of its users as of now. The cache calls it as
// each item enters, and again for the keys the index signals as changed
// (NewIndex's changed), so usedBy is built with the object and never read
// back out of the cache.
func (x *Index) Decorate(key statuscache.Key, base statuscache.Analysis) statuscache.Analysis {
	return Decorate(base, x.Users(SecretRef{Namespace: key.Namespace, Name: key.Name}))
}

// RebuildKeys turns the Secrets whose users changed into the cache's keys
// to rebuild: NewIndex(usedby.RebuildKeys(rebuilds)).
func RebuildKeys(rebuilds *statuscache.Rebuilds) func([]SecretRef) {
	return func(secrets []SecretRef) {
		keys := make([]statuscache.Key, len(secrets))
		for i, secret := range secrets {
			keys[i] = statuscache.Key{Namespace: secret.Namespace, Name: secret.Name}
		}
		rebuilds.Add(keys...)
	}
}

// ConfigMaps is the index as the ConfigMap cache's decorator: a ConfigMap's
// analysis with the Pods that mount it, by workload. Its keys to rebuild
// are NewIndexWithConfigMaps's configMapsChanged.
func (x *Index) ConfigMaps() statuscache.Decorator { return configMapDecorator{x} }

type configMapDecorator struct{ index *Index }

func (d configMapDecorator) Decorate(key statuscache.Key, base statuscache.Analysis) statuscache.Analysis {
	return Decorate(base, d.index.ConfigMapUsers(SecretRef{Namespace: key.Namespace, Name: key.Name}))
}

var _ statuscache.Decorator = &Index{}
