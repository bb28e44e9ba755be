package grammar

import (
	"bytes"
	"slices"
)

// trie is the vocabulary as a byte trie in flat arrays. Node 0 is the root;
// the edges of node n are edges[first[n]:first[n+1]], sorted by byte, and the
// tokens whose bytes end at n are toks[tokFirst[n]:tokFirst[n+1]].
type trie struct {
	first    []int32
	edgeByte []byte
	edgeNode []int32
	tokFirst []int32
	toks     []int32
	maxDepth int
}

func buildTrie(vocab [][]byte, skip func(id int) bool) *trie {
	var order []int32
	for id, b := range vocab {
		if len(b) > 0 && !skip(id) {
			order = append(order, int32(id))
		}
	}
	slices.SortStableFunc(order, func(a, b int32) int { return bytes.Compare(vocab[a], vocab[b]) })
	t := &trie{}
	t.node(vocab, order, 0)
	// Close the CSR arrays: first and tokFirst get a sentinel entry.
	t.first = append(t.first, int32(len(t.edgeByte)))
	t.tokFirst = append(t.tokFirst, int32(len(t.toks)))
	return t
}

// node adds the node for the common prefix (of length depth) of the sorted
// tokens in ids and returns its number. Edges are reserved before recursing
// so each node's edges stay contiguous.
func (t *trie) node(vocab [][]byte, ids []int32, depth int) int32 {
	n := int32(len(t.first))
	t.maxDepth = max(t.maxDepth, depth)
	i := 0
	t.tokFirst = append(t.tokFirst, int32(len(t.toks)))
	for i < len(ids) && len(vocab[ids[i]]) == depth {
		t.toks = append(t.toks, ids[i])
		i++
	}
	rest := ids[i:]
	var groups [][]int32
	for j := 0; j < len(rest); {
		b := vocab[rest[j]][depth]
		k := j + 1
		for k < len(rest) && vocab[rest[k]][depth] == b {
			k++
		}
		groups = append(groups, rest[j:k])
		j = k
	}
	t.first = append(t.first, int32(len(t.edgeByte)))
	e0 := len(t.edgeByte)
	for _, g := range groups {
		t.edgeByte = append(t.edgeByte, vocab[g[0]][depth])
		t.edgeNode = append(t.edgeNode, 0)
	}
	for k, g := range groups {
		t.edgeNode[e0+k] = t.node(vocab, g, depth+1)
	}
	return n
}
