package lmrun

import (
	"github.com/actadd-go/actadd/lm"
	. "github.com/gomlx/gomlx/core/graph"
)

// KVCache is a decoding cache as the families keep it: for every block, one node of attention
// keys and one of values (each family documents their layout).
type KVCache struct {
	Keys, Values []*Node
}

// List is the cache as the decoder carries it (lm.Cache): every block's keys, then every
// block's values.
func (c *KVCache) List() lm.Cache {
	return append(append(lm.Cache{}, c.Keys...), c.Values...)
}

// SplitCache is the KVCache of a list made by KVCache.List.
func SplitCache(cache lm.Cache) *KVCache {
	n := len(cache) / 2
	return &KVCache{Keys: cache[:n], Values: cache[n:]}
}
