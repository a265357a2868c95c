package apiserver

import (
	"slices"
	"testing"

	restclient "k8s.io/client-go/rest"

	"github.com/certstatus/certstatus/pkg/usedby"
)

// The usedBy index and its sources are built for the decorated sources
// served: ConfigMaps use only Pods, so without Secrets nothing else is
// watched, and a cache not served gets no rebuild signal.
func TestNewUsedBy(t *testing.T) {
	all := usedby.Kinds{Ingress: true, Gateway: true, Pod: true}
	for _, tc := range []struct {
		name               string
		sources            []string
		kinds              usedby.Kinds
		secrets, configMap bool
		resources          []string // nil: nothing built
	}{
		{"both", []string{SourceSecrets, SourceConfigMaps}, all, true, true, []string{"ingresses", "jobs", "pods", "replicasets"}},
		{"secrets only", []string{SourceSecrets}, all, true, false, []string{"ingresses", "jobs", "pods", "replicasets"}},
		{"configmaps only", []string{SourceConfigMaps}, all, false, true, []string{"jobs", "pods", "replicasets"}},
		{"configmaps without Pods", []string{SourceConfigMaps}, usedby.Kinds{Ingress: true}, false, false, nil},
		{"secrets and configmaps without Pods", []string{SourceConfigMaps, SourceSecrets}, usedby.Kinds{Ingress: true}, true, false, []string{"ingresses"}},
		{"usedBy off", []string{SourceSecrets, SourceConfigMaps}, usedby.Kinds{}, false, false, nil},
		// The registrations' Trusted reads the same Pod watch: with usedBy
		// off it runs for them alone (no index, no usedBy informer).
		{"registrations", []string{SourceSecrets, SourceRegistrations}, all, true, false, []string{"ingresses", "jobs", "pods", "replicasets"}},
		{"registrations with usedBy off", []string{SourceSecrets, SourceRegistrations}, usedby.Kinds{}, false, false, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := &wiring{config: &Config{Sources: tc.sources, UsedBy: tc.kinds}, informerConfig: &restclient.Config{Host: "https://127.0.0.1:1"}}
			if err := w.newUsedBy(); err != nil {
				t.Fatal(err)
			}
			if (w.secretRebuilds != nil) != tc.secrets || (w.configMapRebuilds != nil) != tc.configMap {
				t.Errorf("Secret rebuilds %v, ConfigMap rebuilds %v; want %v, %v", w.secretRebuilds != nil, w.configMapRebuilds != nil, tc.secrets, tc.configMap)
			}
			registrations := slices.Contains(tc.sources, SourceRegistrations)
			if (w.trustedPods != nil) != registrations {
				t.Errorf("Trusted's Pod record built: %v, want %v", w.trustedPods != nil, registrations)
			}
			if registrations && w.users == nil {
				t.Fatal("no Pod watch for the registrations")
			}
			if len(tc.resources) == 0 && w.usedBy != nil {
				t.Error("built a usedBy index")
			}
			if tc.resources == nil {
				if w.users != nil {
					t.Errorf("built usedBy watching %v", w.users.Resources())
				}
				if w.usedBy != nil {
					t.Error("built a usedBy index")
				}
				return
			}
			if w.users == nil || len(tc.resources) > 0 && w.usedBy == nil {
				t.Fatal("usedBy not built")
			}
			if got := w.users.Resources(); !slices.Equal(got, tc.resources) {
				t.Errorf("watches %v, want %v", got, tc.resources)
			}
		})
	}
}
