package hftok

import (
	"container/heap"
	"fmt"
	"unicode/utf8"
)

// bpeModel is tokenizers' BPE model: merges applied by rank (lowest first, leftmost first among
// equal ranks), with ignore_merges, byte fallback and unknown-token fusing as the file says.
type bpeModel struct {
	vocab        map[string]int
	merges       map[[2]int]mergeTarget
	unk          int // -1 when the file names no unknown token
	fuseUnk      bool
	byteFallback bool
	ignoreMerges bool
	byteTokens   [256]int // ids of <0x00>..<0xFF>, when byteFallback
}

type mergeTarget struct {
	rank, id int
}

func newBPEModel(m *modelSection) (*bpeModel, error) {
	if m.Type != "BPE" {
		return nil, fmt.Errorf("model type %q is not implemented (implemented: BPE)", m.Type)
	}
	if m.Dropout != nil && *m.Dropout != 0 {
		return nil, fmt.Errorf("BPE dropout %v is not implemented: encoding would be random", *m.Dropout)
	}
	if m.ContinuingSubwordPrefix != nil && *m.ContinuingSubwordPrefix != "" {
		return nil, fmt.Errorf("BPE continuing_subword_prefix %q is not implemented", *m.ContinuingSubwordPrefix)
	}
	if m.EndOfWordSuffix != nil && *m.EndOfWordSuffix != "" {
		return nil, fmt.Errorf("BPE end_of_word_suffix %q is not implemented", *m.EndOfWordSuffix)
	}
	if len(m.Vocab) == 0 {
		return nil, fmt.Errorf("model.vocab is empty")
	}
	b := &bpeModel{
		vocab:        m.Vocab,
		unk:          -1,
		fuseUnk:      m.FuseUnk,
		byteFallback: m.ByteFallback,
		ignoreMerges: m.IgnoreMerges,
	}
	for tok, id := range m.Vocab {
		if id < 0 {
			return nil, fmt.Errorf("vocab token %q has negative id %d", tok, id)
		}
	}
	if m.UnkToken != nil && *m.UnkToken != "" {
		id, ok := m.Vocab[*m.UnkToken]
		if !ok {
			return nil, fmt.Errorf("unk_token %q is not in the vocabulary", *m.UnkToken)
		}
		b.unk = id
	}
	if b.byteFallback {
		for i := range 256 {
			name := fmt.Sprintf("<0x%02X>", i)
			id, ok := m.Vocab[name]
			if !ok {
				// tokenizers falls back to the unknown token for a character any of whose
				// bytes lacks a token; mark the byte missing.
				id = -1
			}
			b.byteTokens[i] = id
		}
	}
	merges, err := parseMerges(m.Merges)
	if err != nil {
		return nil, err
	}
	b.merges = make(map[[2]int]mergeTarget, len(merges))
	for rank, mg := range merges {
		a, ok := m.Vocab[mg[0]]
		if !ok {
			return nil, fmt.Errorf("merge %d (%q %q): %q is not in the vocabulary", rank, mg[0], mg[1], mg[0])
		}
		c, ok := m.Vocab[mg[1]]
		if !ok {
			return nil, fmt.Errorf("merge %d (%q %q): %q is not in the vocabulary", rank, mg[0], mg[1], mg[1])
		}
		id, ok := m.Vocab[mg[0]+mg[1]]
		if !ok {
			return nil, fmt.Errorf("merge %d (%q %q): the merged token %q is not in the vocabulary", rank, mg[0], mg[1], mg[0]+mg[1])
		}
		// A pair listed twice keeps its last rank, as tokenizers' map building does.
		b.merges[[2]int{a, c}] = mergeTarget{rank: rank, id: id}
	}
	return b, nil
}

// symbol is one node of the doubly linked list a word is merged in.
type symbol struct {
	id         int
	prev, next int // indices, -1 at the ends
	size       int // 0 once merged into its left neighbour
}

type mergeItem struct {
	pos, rank, id int
}

type mergeQueue []mergeItem

func (q mergeQueue) Len() int { return len(q) }
func (q mergeQueue) Less(i, j int) bool {
	if q[i].rank != q[j].rank {
		return q[i].rank < q[j].rank
	}
	return q[i].pos < q[j].pos
}
func (q mergeQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *mergeQueue) Push(x any)   { *q = append(*q, x.(mergeItem)) }
func (q *mergeQueue) Pop() any {
	old := *q
	it := old[len(old)-1]
	*q = old[:len(old)-1]
	return it
}

// tokenize appends the ids of one pre-token to out.
func (b *bpeModel) tokenize(word string, out []int) []int {
	if word == "" {
		return out
	}
	if b.ignoreMerges {
		if id, ok := b.vocab[word]; ok {
			return append(out, id)
		}
	}
	syms := make([]symbol, 0, len(word))
	lastUnk := false
	for i := 0; i < len(word); {
		_, n := utf8.DecodeRuneInString(word[i:])
		ch := word[i : i+n]
		i += n
		if id, ok := b.vocab[ch]; ok {
			syms = append(syms, symbol{id: id, size: 1})
			lastUnk = false
			continue
		}
		if b.byteFallback {
			all := true
			for k := 0; k < len(ch); k++ {
				if b.byteTokens[ch[k]] < 0 {
					all = false
					break
				}
			}
			if all {
				for k := 0; k < len(ch); k++ {
					syms = append(syms, symbol{id: b.byteTokens[ch[k]], size: 1})
				}
				lastUnk = false
				continue
			}
		}
		if b.unk < 0 {
			// tokenizers drops a character it has no token for when the model has no
			// unknown token.
			continue
		}
		if b.fuseUnk && lastUnk {
			syms[len(syms)-1].size++
			continue
		}
		syms = append(syms, symbol{id: b.unk, size: 1})
		lastUnk = true
	}
	for i := range syms {
		syms[i].prev = i - 1
		syms[i].next = i + 1
	}
	if len(syms) > 0 {
		syms[len(syms)-1].next = -1
	}
	q := make(mergeQueue, 0, len(syms))
	for i := 0; i+1 < len(syms); i++ {
		if t, ok := b.merges[[2]int{syms[i].id, syms[i+1].id}]; ok {
			q = append(q, mergeItem{pos: i, rank: t.rank, id: t.id})
		}
	}
	heap.Init(&q)
	for q.Len() > 0 {
		top := heap.Pop(&q).(mergeItem)
		cur := &syms[top.pos]
		if cur.size == 0 || cur.next < 0 {
			continue
		}
		nextPos := cur.next
		right := syms[nextPos]
		if t, ok := b.merges[[2]int{cur.id, right.id}]; !ok || t.id != top.id {
			continue
		}
		cur.id = top.id
		cur.size += right.size
		cur.next = right.next
		syms[nextPos].size = 0
		if right.next >= 0 {
			syms[right.next].prev = top.pos
		}
		if cur.prev >= 0 {
			if t, ok := b.merges[[2]int{syms[cur.prev].id, cur.id}]; ok {
				heap.Push(&q, mergeItem{pos: cur.prev, rank: t.rank, id: t.id})
			}
		}
		if cur.next >= 0 {
			if t, ok := b.merges[[2]int{cur.id, syms[cur.next].id}]; ok {
				heap.Push(&q, mergeItem{pos: top.pos, rank: t.rank, id: t.id})
			}
		}
	}
	for i := range syms {
		if syms[i].size > 0 {
			out = append(out, syms[i].id)
		}
	}
	return out
}
