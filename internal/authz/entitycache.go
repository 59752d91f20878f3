package authz

import (
	"encoding/binary"
	"sync"

	cedar "github.com/cedar-policy/cedar-go"
)

// entityCache memoizes Cedar entities. An entity is a pure function of the
// fields in its key (which encodes every input, length-prefixed), so a hit
// can never serve stale data: agreements and clocks are not inputs to
// entities and are never cached. The cache only saves rebuilding attribute
// records, the largest cost of a decision after policy evaluation.
type entityCache struct {
	mu sync.RWMutex
	m  map[string]cedar.Entity
}

// maxCachedEntities bounds each cache; when full it is emptied (simple,
// and hot entries come straight back).
const maxCachedEntities = 8192

func (c *entityCache) get(key []byte) (cedar.Entity, bool) {
	if c == nil {
		return cedar.Entity{}, false
	}
	c.mu.RLock()
	e, ok := c.m[string(key)] // no allocation for the lookup
	c.mu.RUnlock()
	return e, ok
}

func (c *entityCache) put(key []byte, e cedar.Entity) {
	if c == nil {
		return
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedEntities {
		c.m = make(map[string]cedar.Entity)
	}
	c.m[string(key)] = e
	c.mu.Unlock()
}

func appendField(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}
