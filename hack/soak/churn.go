package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/certstatus/certstatus/pkg/certificate/certtest"
)

// churn writes Secrets in namespace: creates, renewals (new certificate
// data), deletions and relabels, keeping the count within ±25% of size.
type churn struct {
	kube   kubernetes.Interface
	size   int
	leaves [][]byte // tls.crt chains to pick from: valid, expiring soon, expired
	keys   [][]byte
	caPEM  []byte

	live    map[string]*corev1.Secret
	next    int
	counts  map[string]*atomic.Int64
	errs    atomic.Int64
	summMu  sync.Mutex
	lastErr string
}

var ops = []string{"create", "renew", "delete", "relabel"}

func newChurn(kube kubernetes.Interface, size int) (*churn, error) {
	now := time.Now()
	root, err := certtest.NewCA(certtest.Spec{CommonName: "soak Root CA", KeyAlgorithm: certtest.ECDSA, NotAfter: now.Add(10 * 365 * 24 * time.Hour)})
	if err != nil {
		return nil, err
	}
	intermediate, err := root.NewIntermediate(certtest.Spec{CommonName: "soak Intermediate CA", KeyAlgorithm: certtest.ECDSA, NotAfter: now.Add(5 * 365 * 24 * time.Hour)})
	if err != nil {
		return nil, err
	}
	ch := &churn{kube: kube, size: size, caPEM: root.PEM(), live: map[string]*corev1.Secret{}, counts: map[string]*atomic.Int64{}}
	for _, op := range ops {
		ch.counts[op] = &atomic.Int64{}
	}
	// A pool of leaves, so renewals change the status (expiry, state)
	// without generating keys at the write rate.
	for i := range 24 {
		notAfter := now.Add(time.Duration(i+1) * 24 * time.Hour * 7) // 1..24 weeks: expiring soon and valid
		if i%6 == 5 {
			notAfter = now.Add(-time.Duration(i) * time.Hour) // expired
		}
		leaf, err := intermediate.NewLeaf(certtest.Spec{
			CommonName: fmt.Sprintf("soak-%d.example.com", i), DNSNames: []string{fmt.Sprintf("soak-%d.example.com", i)},
			KeyAlgorithm: certtest.ECDSA, NotBefore: notAfter.Add(-90 * 24 * time.Hour), NotAfter: notAfter,
		})
		if err != nil {
			return nil, err
		}
		key, err := leaf.KeyPEM(certtest.PKCS8)
		if err != nil {
			return nil, err
		}
		ch.leaves = append(ch.leaves, certtest.ChainPEM(leaf, intermediate))
		ch.keys = append(ch.keys, key)
	}
	return ch, nil
}

func (ch *churn) data() map[string][]byte {
	i := rand.IntN(len(ch.leaves))
	return map[string][]byte{"tls.crt": ch.leaves[i], "tls.key": ch.keys[i], "ca.crt": ch.caPEM}
}

func (ch *churn) fill(ctx context.Context) error {
	for len(ch.live) < ch.size {
		if err := ch.create(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (ch *churn) create(ctx context.Context) error {
	name := fmt.Sprintf("s-%06d", ch.next)
	ch.next++
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: map[string]string{"tier": "soak", "gen": "0"}},
		Type:       corev1.SecretTypeTLS,
		Data:       ch.data(),
	}
	created, err := ch.kube.CoreV1().Secrets(namespace).Create(ctx, secret, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	ch.live[name] = created
	ch.counts["create"].Add(1)
	return nil
}

// run writes at rate until ctx ends; errors are counted and logged, not fatal.
func (ch *churn) run(ctx context.Context, rate float64) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := ch.step(ctx); err != nil && ctx.Err() == nil {
			ch.errs.Add(1)
			ch.summMu.Lock()
			ch.lastErr = err.Error()
			ch.summMu.Unlock()
		}
	}
}

func (ch *churn) step(ctx context.Context) error {
	op := ops[rand.IntN(len(ops))]
	switch {
	case op == "create" && len(ch.live) >= ch.size*5/4, op == "delete" && len(ch.live) <= ch.size*3/4:
		op = "renew"
	}
	if op == "create" {
		return ch.create(ctx)
	}
	name := ch.pick()
	secrets := ch.kube.CoreV1().Secrets(namespace)
	if op == "delete" {
		err := secrets.Delete(ctx, name, metav1.DeleteOptions{})
		if err == nil || apierrors.IsNotFound(err) {
			delete(ch.live, name)
			ch.counts[op].Add(1)
		}
		return err
	}
	secret := ch.live[name].DeepCopy()
	if op == "renew" {
		secret.Data = ch.data()
	} else {
		gen, _ := strconv.Atoi(secret.Labels["gen"])
		secret.Labels["gen"] = strconv.Itoa(gen + 1)
	}
	updated, err := secrets.Update(ctx, secret, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) { // not expected: nothing else writes these
		if fresh, getErr := secrets.Get(ctx, name, metav1.GetOptions{}); getErr == nil {
			ch.live[name] = fresh
		}
	}
	if err != nil {
		return err
	}
	ch.live[name] = updated
	ch.counts[op].Add(1)
	return nil
}

func (ch *churn) pick() string {
	i := rand.IntN(len(ch.live))
	for name := range ch.live {
		if i == 0 {
			return name
		}
		i--
	}
	panic("unreachable")
}

func (ch *churn) summary() string {
	var total int64
	var parts []string
	for _, op := range ops {
		n := ch.counts[op].Load()
		total += n
		parts = append(parts, fmt.Sprintf("%s %d", op, n))
	}
	ch.summMu.Lock()
	defer ch.summMu.Unlock()
	s := fmt.Sprintf("%d writes (%s), %d failed", total, strings.Join(parts, ", "), ch.errs.Load())
	if ch.lastErr != "" {
		s += " (last: " + ch.lastErr + ")"
	}
	return s
}
