package stack

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// The APIService certstatus is served through.
const (
	Group          = "certstatus.dev"
	Version        = "v1alpha1"
	APIServiceName = Version + "." + Group
)

var apiServiceResource = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// fieldManager owns what the stack applies server-side.
const fieldManager = "certstatus-test-stack"

// apiServiceTimeout bounds the wait for the APIService to become Available.
const apiServiceTimeout = 60 * time.Second

// RegisterAPIService points the APIService v1alpha1.certstatus.dev at the
// certstatus server on port (through the ExternalName Service
// certstatus/certstatus-apiserver → localhost, as in a cluster without
// kube-proxy), and waits until it is Available and discovery answers through
// the aggregator. Calling it again moves the APIService to another server.
func (s *Stack) RegisterAPIService(ctx context.Context, port int) error {
	return s.RegisterAPIServiceWithCA(ctx, port, s.certs.ServingCAPEM)
}

// RegisterAPIServiceWithCA is RegisterAPIService with caBundle as the CA the
// aggregator verifies the server's certificate against, for a server that
// serves a certificate of another CA than the stack's (say the Helm chart's).
func (s *Stack) RegisterAPIServiceWithCA(ctx context.Context, port int, caBundle []byte) error {
	ctx, cancel := context.WithTimeout(ctx, apiServiceTimeout)
	defer cancel()
	if err := s.applyExternalNameService(ctx); err != nil {
		return fmt.Errorf("register APIService: %w", err)
	}
	apiService := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1",
		"kind":       "APIService",
		"metadata":   map[string]any{"name": APIServiceName},
		"spec": map[string]any{
			"group":   Group,
			"version": Version,
			"service": map[string]any{
				"namespace": ServerNamespace,
				"name":      ServerServiceName,
				"port":      int64(port),
			},
			"caBundle":             base64.StdEncoding.EncodeToString(caBundle),
			"groupPriorityMinimum": int64(1000),
			"versionPriority":      int64(15),
		},
	}}
	data, err := apiService.MarshalJSON()
	if err != nil {
		return fmt.Errorf("register APIService: %w", err)
	}
	force := true
	_, err = s.dynamic.Resource(apiServiceResource).Patch(ctx, APIServiceName, types.ApplyPatchType, data,
		metav1.PatchOptions{FieldManager: fieldManager, Force: &force})
	if err != nil {
		return fmt.Errorf("register APIService: apply: %w", err)
	}
	if err := s.waitAPIServiceAvailable(ctx); err != nil {
		return fmt.Errorf("register APIService: %w", err)
	}
	return nil
}

// applyExternalNameService creates the ExternalName Service the APIService
// names. The aggregator (with --enable-aggregator-routing=false) dials
// <externalName>:<APIService port>, so the Service needs no ports.
func (s *Stack) applyExternalNameService(ctx context.Context) error {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: ServerServiceName, Namespace: ServerNamespace},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "localhost"},
	}
	_, err := s.client.CoreV1().Services(ServerNamespace).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create Service %s/%s: %w", ServerNamespace, ServerServiceName, err)
	}
	return nil
}

// waitAPIServiceAvailable waits for the Available condition and for
// /apis/certstatus.dev/v1alpha1 to answer through kube-apiserver.
func (s *Stack) waitAPIServiceAvailable(ctx context.Context) error {
	err := poll(ctx, pollInterval, "APIService "+APIServiceName+" to be Available", func(ctx context.Context) (bool, error) {
		obj, err := s.dynamic.Resource(apiServiceResource).Get(ctx, APIServiceName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		available, err := availableCondition(obj)
		if !available {
			return false, err
		}
		err = s.client.Discovery().RESTClient().Get().AbsPath("/apis", Group, Version).Do(ctx).Error()
		return err == nil, err
	})
	return err
}

// applyServerRBAC applies the namespace, the server's ServiceAccount and the
// RBAC manifests from ManifestsDir, once per stack.
func (s *Stack) applyServerRBAC(ctx context.Context) error {
	s.rbacMu.Lock()
	defer s.rbacMu.Unlock()
	if s.rbacApplied {
		return nil
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ServerNamespace}}
	if _, err := s.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", ServerNamespace, err)
	}
	args := []string{"apply"}
	// serviceaccount.yaml is optional: the server authenticates with a
	// client certificate for the ServiceAccount's name, not a token.
	for _, name := range []string{"serviceaccount.yaml", "rbac.yaml", "rbac-used-by.yaml", "rbac-sources.yaml", "aggregated-clusterroles.yaml"} {
		path := filepath.Join(s.opts.ManifestsDir, name)
		if _, err := os.Stat(path); err != nil {
			if name == "serviceaccount.yaml" {
				continue
			}
			return fmt.Errorf("RBAC manifest: %w", err)
		}
		args = append(args, "-f", path)
	}
	if _, _, err := s.Kubectl(ctx, args...); err != nil {
		return fmt.Errorf("apply RBAC: %w", err)
	}
	s.rbacApplied = true
	return nil
}

// availableCondition reads the APIService's Available condition.
func availableCondition(obj *unstructured.Unstructured) (bool, error) {
	conditions, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conditions {
		cond, _ := c.(map[string]any)
		if cond["type"] != "Available" {
			continue
		}
		if cond["status"] != "True" {
			return false, fmt.Errorf("not Available: %v: %v", cond["reason"], cond["message"])
		}
		return true, nil
	}
	return false, fmt.Errorf("no Available condition yet")
}
