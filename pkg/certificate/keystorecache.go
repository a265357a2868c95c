package certificate

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"sync/atomic"
)

// pkcs12Cache remembers what reading a PKCS#12 file gave, by a keyed hash
// of its bytes and of the passwords tried: a relist, or a resync, then
// never runs the key derivations again (a locked keystore costs up to four
// per analysis). A new password (a changed password Secret) is another
// entry. Entries hold certificates, public keys and messages only, copied
// out of the decrypted buffers; the hash key is random per process, so the
// entry keys say nothing of the passwords without it.
var pkcs12Cache = newKeystoreCache()

// maxCachedKeystores and maxCachedBytes (certificates held) bound the
// cache; when either is reached it starts over.
const (
	maxCachedKeystores = 4096
	maxCachedBytes     = 32 << 20
)

type keystoreCache struct {
	key     [32]byte
	mu      sync.Mutex
	entries map[[32]byte]storeContents
	bytes   int
}

func newKeystoreCache() *keystoreCache {
	c := &keystoreCache{entries: map[[32]byte]storeContents{}}
	if _, err := rand.Read(c.key[:]); err != nil {
		panic("keystore cache: no random key: " + err.Error())
	}
	return c
}

// kdfRuns counts key derivations, for the tests that check the cache.
var kdfRuns atomic.Int64

// read returns the cached result for value and candidates, or reads it.
func (c *keystoreCache) read(value []byte, candidates passwords, read func([]byte, passwords) storeContents) storeContents {
	mac := hmac.New(sha256.New, c.key[:])
	var length [8]byte
	for _, part := range append([]string{string(value)}, candidates...) {
		binary.BigEndian.PutUint64(length[:], uint64(len(part)))
		mac.Write(length[:])
		mac.Write([]byte(part))
	}
	var id [32]byte
	mac.Sum(id[:0])
	c.mu.Lock()
	cached, ok := c.entries[id]
	c.mu.Unlock()
	if ok {
		return cached
	}
	result := read(value, candidates)
	kept := result
	kept.certs = make([]storeCert, len(result.certs))
	size := 0
	for i, cert := range result.certs {
		kept.certs[i] = storeCert{der: bytes.Clone(cert.der), alias: cert.alias, key: cert.key}
		size += len(cert.der)
	}
	c.mu.Lock()
	if len(c.entries) >= maxCachedKeystores || c.bytes+size > maxCachedBytes {
		clear(c.entries)
		c.bytes = 0
	}
	if size <= maxCachedBytes {
		c.entries[id] = kept
		c.bytes += size
	}
	c.mu.Unlock()
	return kept
}

// reset empties the cache (benchmarks measure what a miss costs).
func (c *keystoreCache) reset() {
	c.mu.Lock()
	clear(c.entries)
	c.bytes = 0
	c.mu.Unlock()
}
