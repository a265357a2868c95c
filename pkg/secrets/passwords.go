package secrets

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/certstatus/certstatus/pkg/apis/certstatus"
)

// passwordSecrets serves certstatus.dev/keystore-password-secret. The
// informer keeps no Secret data, so a password Secret is read with a get
// when a keystore needs it, and a change to it re-reads the Secrets that
// name it. Only the names are remembered, never a password.
type passwordSecrets struct {
	// get reads one object as JSON.
	get objectGetter
	// reanalyse reads a Secret again and applies the result; set by the Source.
	reanalyse func(namespace, name string)

	mu sync.RWMutex
	// users are the Secrets naming each password Secret, by namespace/name.
	users map[string]map[string]bool
	// seen is the last resourceVersion of each password Secret in use, so
	// a resync (same version) does not re-read anything.
	seen map[string]string
}

func newPasswordSecrets(get objectGetter) *passwordSecrets {
	return &passwordSecrets{get: get, users: map[string]map[string]bool{}, seen: map[string]string{}}
}

// objectGetter reads the object at an API path as JSON.
type objectGetter func(ctx context.Context, path string) ([]byte, error)

// maxPasswordObject bounds what one password read may bring.
const maxPasswordObject = 4 << 20

// quietGetter reads through client without client-go logging the body:
// rest.Request's Do logs response bodies from -v=8 on, which would put a
// password in the log; Stream hands the body over unread.
func quietGetter(client rest.Interface) objectGetter {
	return func(ctx context.Context, path string) ([]byte, error) {
		stream, err := client.Get().AbsPath(path).SetHeader("Accept", "application/json").Stream(ctx)
		if err != nil {
			return nil, err
		}
		defer stream.Close()
		return io.ReadAll(io.LimitReader(stream, maxPasswordObject))
	}
}

// getSecret reads a Secret of namespace.
func (p *passwordSecrets) getSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	data, err := p.get(ctx, "/api/v1/namespaces/"+namespace+"/secrets/"+name)
	if err != nil {
		return nil, err
	}
	var secret corev1.Secret
	if err := json.Unmarshal(data, &secret); err != nil {
		return nil, errors.New("the answer is not a Secret")
	}
	return &secret, nil
}

// remember notes that secret's keystores use the password Secret name.
func (p *passwordSecrets) remember(secret *corev1.Secret, name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ref := secret.Namespace + "/" + name
	if p.users[ref] == nil {
		p.users[ref] = map[string]bool{}
	}
	p.users[ref][secret.Name] = true
}

// certificatesResource is cert-manager's Certificate.
var certificatesResource = schema.GroupVersionResource{Group: "cert-manager.io", Version: "v1", Resource: "certificates"}

// fromCertificate is the certificate.Input's PasswordsFromCertificate:
// the passwords of spec.keystores.pkcs12 and .jks, a literal password or
// passwordSecretRef. The Certificate counts only when its spec.secretName
// is this Secret: else anyone who can create a Secret could point it at
// another Certificate and test keystores against that one's password.
// Without cert-manager's CRDs (or the Certificate, or the right to read
// it) there is nothing to read, and nothing to report.
func (p *passwordSecrets) fromCertificate(secret *corev1.Secret) func(name string) ([][]byte, error) {
	return func(name string) ([][]byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), passwordGetTimeout)
		defer cancel()
		data, err := p.get(ctx, "/apis/"+certificatesResource.Group+"/"+certificatesResource.Version+"/namespaces/"+secret.Namespace+"/"+certificatesResource.Resource+"/"+name)
		switch {
		case apierrors.IsNotFound(err) || apierrors.IsForbidden(err):
			return nil, nil // no CRD, no Certificate, or no right to read it
		case err != nil:
			return nil, errors.New("the cert-manager Certificate could not be read for its keystore password; it is read again when the Secret changes")
		}
		certificate := &unstructured.Unstructured{}
		if err := json.Unmarshal(data, &certificate.Object); err != nil {
			return nil, errors.New("the cert-manager Certificate could not be decoded")
		}
		if target, _, _ := unstructured.NestedString(certificate.Object, "spec", "secretName"); target != secret.Name {
			return nil, nil
		}
		var passwords [][]byte
		for _, store := range []string{"pkcs12", "jks"} {
			if literal, _, _ := unstructured.NestedString(certificate.Object, "spec", "keystores", store, "password"); literal != "" {
				passwords = append(passwords, []byte(literal))
				continue
			}
			refName, _, _ := unstructured.NestedString(certificate.Object, "spec", "keystores", store, "passwordSecretRef", "name")
			refKey, _, _ := unstructured.NestedString(certificate.Object, "spec", "keystores", store, "passwordSecretRef", "key")
			if refName == "" {
				continue
			}
			p.remember(secret, refName)
			source, err := p.getSecret(ctx, secret.Namespace, refName)
			if err != nil {
				return passwords, fmt.Errorf("the %s keystore password Secret %s of the cert-manager Certificate could not be read", store, refName)
			}
			if value, ok := source.Data[refKey]; ok {
				passwords = append(passwords, value)
			}
		}
		return passwords, nil
	}
}

// passwordReadsPerSecond is the password client's rate (twice that as a
// burst): gets of a few hundred bytes, which kube-apiserver's priority and
// fairness still governs.
const passwordReadsPerSecond = 100

// passwordGetTimeout bounds the get a keystore's analysis waits for.
const passwordGetTimeout = 10 * time.Second

// lookup is the certificate.Input's PasswordFromSecret for secret: it
// remembers that secret uses the named Secret and reads the key when that
// Secret carries the label. Errors name what to fix, never data.
func (p *passwordSecrets) lookup(secret *corev1.Secret) func(name, key string) ([]byte, error) {
	return func(name, key string) ([]byte, error) {
		p.remember(secret, name)
		ctx, cancel := context.WithTimeout(context.Background(), passwordGetTimeout)
		defer cancel()
		source, err := p.getSecret(ctx, secret.Namespace, name)
		switch {
		case apierrors.IsNotFound(err):
			return nil, fmt.Errorf("the password Secret %s does not exist in the namespace", name)
		case err != nil:
			return nil, errors.New("the password Secret could not be read; it is read again when it changes")
		case source.Labels[certstatus.KeystorePasswordLabel] != "true":
			return nil, fmt.Errorf("the password Secret %s is not read: it lacks the label %s: \"true\", which says its keys may be used as keystore passwords", name, certstatus.KeystorePasswordLabel)
		}
		value, ok := source.Data[key]
		if !ok {
			return nil, fmt.Errorf("the password Secret %s has no such key", name)
		}
		return value, nil
	}
}

// changed is called for every Secret the informer sees: when a password
// Secret's version changes, the Secrets naming it are read again.
func (p *passwordSecrets) changed(secret *corev1.Secret) {
	key := secret.Namespace + "/" + secret.Name
	// Every Secret passes here: a read lock and one lookup for the others,
	// and nothing is remembered of them.
	p.mu.RLock()
	used := len(p.users[key]) > 0 && p.seen[key] != secret.ResourceVersion
	p.mu.RUnlock()
	if !used {
		return
	}
	p.mu.Lock()
	users := p.users[key]
	if len(users) == 0 || p.seen[key] == secret.ResourceVersion {
		p.mu.Unlock()
		return
	}
	p.seen[key] = secret.ResourceVersion
	names := make([]string, 0, len(users))
	for name := range users {
		names = append(names, name)
	}
	p.mu.Unlock()
	if p.reanalyse == nil {
		return
	}
	// Not in the informer's goroutine: the re-read does a get.
	go func() {
		for _, name := range names {
			p.reanalyse(secret.Namespace, name)
		}
	}()
}

// A Secret that stops naming a password Secret stays remembered: a change
// to that Secret then re-reads it once more, which is harmless.

// reanalyser reads a Secret again through client and hands the analysis to apply.
func (p *passwordSecrets) reanalyser(analyse func(interface{}) (interface{}, error), apply func(interface{})) func(namespace, name string) {
	return func(namespace, name string) {
		ctx, cancel := context.WithTimeout(context.Background(), passwordGetTimeout)
		defer cancel()
		secret, err := p.getSecret(ctx, namespace, name)
		if apierrors.IsNotFound(err) {
			return
		}
		if err != nil {
			klog.ErrorS(err, "Cannot re-read a Secret after its keystore password changed", "secret", klog.KRef(namespace, name))
			return
		}
		kept, err := analyse(secret)
		if err == nil {
			apply(kept)
		}
	}
}
