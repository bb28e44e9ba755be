package kern

// Prefill attention as two products per query head, through the packed
// prefill's micro-kernel (gemm.go): a block of queries' scores S = Q·Kᵀ,
// then out = softmax(S)·V. One query at a time (attn.go) each score is a
// 64-value dot product whose reduction costs as much as its FMAs, and the
// kernels ran near half of the FMA peak; here a tile of scores (the set's
// mr queries: 6 on AVX2, 12 on AVX-512; 16 positions) stays in registers
// over the head's dimensions, and a tile of outputs (mr queries, 16
// dimensions) over the positions.
// Each chunk is one KV head and a block of queries: it widens the keys and
// values its queries see once into panels (the micro-kernel's k-major
// layout), shared by the group's query heads and the block's queries.

const (
	attnQB = 96 // queries per chunk: 16 micro-tiles of 6 rows, 8 of 12
	// attnGemmMinQ is the fewest queries for the products: below it the
	// panels are widened for too few queries to pay.
	attnGemmMinQ = 16
	// attnGemmMaxPos bounds the positions a chunk sees, hence its
	// per-thread scratch (panels of keys and values, a block's scores:
	// ~5 MiB at head size 128); longer contexts go query by query.
	attnGemmMaxPos = 4096
)

// attnGemm reports whether Attention runs as products for these queries:
// a set with the micro-kernel, plain causal attention (a window keeps the
// per-query path), head dimensions in whole 16-value panels.
func attnGemm(a Attn, nq, pos0 int) bool {
	return active.micro != nil && nq >= attnGemmMinQ && a.Window == 0 &&
		a.HeadDim%packNR == 0 && pos0+nq <= attnGemmMaxPos
}

type attnGemmTask struct {
	out, q   []float32
	nq, pos0 int
	k, v     KV
	a        Attn
	blocks   int
	kp, vp   [][]float32 // per thread: keys (panels, HeadDim, packNR); values (HeadDim/packNR, positions, packNR)
	s        [][]float32 // per thread: one head's scores (attnQB, positions)
	row      [][]float32 // per thread: one widened cache row (HeadDim), a padded query tile (mr, HeadDim), an output tile (mr, 2·packNR)
	kr       [][]float32 // per thread: widened keys (positions, HeadDim)
	mats     []Mat       // per thread: a view of a half cache block for packRow
}

func (e *Exec) attentionGemm(out, q []float32, nq, pos0 int, k, v KV, a Attn) {
	t := &e.ag
	if len(t.kp) != e.pool.Threads() {
		th := e.pool.Threads()
		t.kp, t.vp, t.s, t.row = make([][]float32, th), make([][]float32, th), make([][]float32, th), make([][]float32, th)
		t.kr = make([][]float32, th)
		t.mats = make([]Mat, th)
	}
	t.out, t.q, t.nq, t.pos0, t.k, t.v, t.a = out, q, nq, pos0, k, v, a
	t.blocks = (nq + attnQB - 1) / attnQB
	e.run(t, t.blocks*a.KVHeads, false)
	t.out, t.q, t.k, t.v, t.a = nil, nil, KV{}, KV{}, Attn{}
}

// runChunk handles KV head c%KVHeads for a block of queries, the last
// block first: later queries see more positions, and the longest chunks
// should not be the ones that end the step.
func (t *attnGemmTask) runChunk(c, tid int) {
	a := t.a
	g, b := c%a.KVHeads, t.blocks-1-c/a.KVHeads
	i0, i1 := b*attnQB, min((b+1)*attnQB, t.nq)
	hd, qDim := a.HeadDim, a.Heads*a.HeadDim
	group := a.Heads / a.KVHeads
	npos := t.pos0 + i1 // positions the block's last query sees
	panels := (npos + packNR - 1) / packNR
	ld := panels * packNR
	kp := grow(t.kp[tid], ld*hd)
	vp := grow(t.vp[tid], ld*hd)
	s := grow(t.s[tid], attnQB*ld)
	mr := active.mr
	scr := grow(t.row[tid], hd+mr*hd+2*mr*packNR)
	kr := grow(t.kr[tid], ld*hd)
	t.kp[tid], t.vp[tid], t.s[tid], t.row[tid], t.kr[tid] = kp, vp, s, scr, kr
	row, qpad, ctile := scr[:hd], scr[hd:hd+mr*hd], scr[hd+mr*hd:]
	t.pack(kp, vp, kr, row, tid, g*hd, npos, ld)
	for j := 0; j < group; j++ {
		h := g*group + j
		for i := i0; i < i1; i += mr {
			rows := min(mr, i1-i)
			// Scores of queries i..i+rows-1: panels up to the last one's
			// position.
			qa, lda := t.q[i*qDim+h*hd:], qDim
			if rows < mr {
				clear(qpad)
				for r := range rows {
					copy(qpad[r*hd:(r+1)*hd], t.q[(i+r)*qDim+h*hd:(i+r)*qDim+(h+1)*hd])
				}
				qa, lda = qpad, hd
			}
			seen := t.pos0 + i + rows // positions the tile's last query sees
			si := s[(i-i0)*ld:]
			np := (seen + packNR - 1) / packNR
			for p := 0; p < np; p++ {
				if m2 := active.micro2; m2 != nil && p+1 < np {
					// Two panels of positions per call (the same bits).
					m2(&si[p*packNR], ld, &qa[0], lda, &kp[p*hd*packNR], hd*packNR, hd, true, &kp[p*hd*packNR])
					p++
					continue
				}
				active.micro(&si[p*packNR], ld, &qa[0], lda, &kp[p*hd*packNR], hd, true, &kp[p*hd*packNR])
			}
			for r := range rows {
				n := t.pos0 + i + r + 1
				sr := si[r*ld : r*ld+n]
				active.scale(sr, a.Scale)
				if a.Softcap > 0 {
					active.softcap(sr, a.Softcap)
				}
				if a.Sinks != nil {
					softmaxSink(sr, a.Sinks[h])
				} else {
					Softmax(sr)
				}
				// Positions past the query's own weigh nothing in the
				// tile's product over seen positions.
				clear(si[r*ld+n : r*ld+seen])
			}
			if rows < mr {
				for r := rows; r < mr; r++ {
					clear(si[r*ld : r*ld+seen])
				}
			}
			for d := 0; d < hd; {
				xp := vp[d*ld:]
				// Two panels of dimensions per call where the set has
				// micro2 (the same bits as two micro calls).
				w := packNR
				if active.micro2 != nil && d+2*packNR <= hd {
					w = 2 * packNR
				}
				c, ldc := &t.out[i*qDim+h*hd+d], qDim
				if rows < mr {
					c, ldc = &ctile[0], w
				}
				if w > packNR {
					active.micro2(c, ldc, &si[0], ld, &xp[0], packNR*ld, seen, true, &xp[0])
				} else {
					active.micro(c, ldc, &si[0], ld, &xp[0], seen, true, &xp[0])
				}
				if rows < mr {
					for r := range rows {
						copy(t.out[(i+r)*qDim+h*hd+d:(i+r)*qDim+h*hd+d+w], ctile[r*w:(r+1)*w])
					}
				}
				d += w
			}
		}
	}
}

// pack widens the keys and values of positions 0..npos-1, columns
// col..col+HeadDim, into kp (panels, HeadDim, packNR), the tokens of a
// panel side by side (through kr, the keys row by row, and the token
// panels' register transposes where the set has them), and vp
// (HeadDim/packNR, ld, packNR), 16 dimensions of one position side by side;
// positions npos..ld-1 are zero.
func (t *attnGemmTask) pack(kp, vp, kr, row []float32, tid, col, npos, ld int) {
	hd := len(row)
	for p := range npos {
		t.rowOf(t.k, kr[p*hd:(p+1)*hd], tid, p, col)
		t.rowOf(t.v, row, tid, p, col)
		for d := 0; d < hd; d += packNR {
			copy(vp[(d*ld+p*packNR):(d*ld+p*packNR)+packNR], row[d:d+packNR])
		}
	}
	for p := npos; p < ld; p++ {
		for d := 0; d < hd; d += packNR {
			clear(vp[(d*ld + p*packNR) : (d*ld+p*packNR)+packNR])
		}
	}
	for p0 := 0; p0 < ld; p0 += packNR {
		dst := kp[p0*hd : (p0+packNR)*hd]
		if p0+packNR <= npos && active.packPanel != nil && active.packPanel(dst, kr[p0*hd:(p0+packNR)*hd], hd) {
			continue
		}
		for j := range packNR {
			if p := p0 + j; p < npos {
				for d, x := range kr[p*hd : (p+1)*hd] {
					dst[d*packNR+j] = x
				}
				continue
			}
			for d := range hd {
				dst[d*packNR+j] = 0
			}
		}
	}
}

// rowOf widens len(dst) values of position pos from column col of c,
// through the set's vector conversion for a half cache.
func (t *attnGemmTask) rowOf(c KV, dst []float32, tid, pos, col int) {
	b, off := pos/c.Block, c.at(pos%c.Block, col)
	if c.F16 == nil {
		copy(dst, c.F32[b][off:off+len(dst)])
		return
	}
	m := &t.mats[tid]
	*m = Mat{DType: F16, Rows: 1, Cols: len(c.F16[b]), U16: c.F16[b]}
	active.packRow(dst, m, 0, off)
	m.U16 = nil
}
