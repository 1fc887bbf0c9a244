package sim

// A mapping's timing — its compute cycles, stream cycles and folds — follows from its fold
// tree, and the tree from the array, the GEMM's fold grid, the groups, the loop nest and its
// tile sizes alone: not from the SRAM sizes, which only decide which tiles the mapspace
// offers and the traffic of each. Points of a sweep that differ in SRAM (or in the
// activations kept on chip, which change the staging room) therefore offer mostly the same
// tiles, and a model keeps the timings it computed (timingKey) instead of building the same
// trees again.

// timingKey is everything a mapping's timing depends on.
type timingKey struct {
	R, C, Sr, Sc, T, g int
	stationary, serial bool
	loop               loopKind
	st, kc, mt, nt     int
	pack               int
}

// loopKind is mapping.loop as a number.
type loopKind uint8

const (
	loopOSN loopKind = iota
	loopOSM
	loopOSNT
	loopOSMT
	loopOSK
	loopCol
	loopTile
	loopPack
)

// loopKindOf returns the loopKind of a mapping.loop.
func loopKindOf(loop string) loopKind {
	switch loop {
	case "os-n":
		return loopOSN
	case "os-m":
		return loopOSM
	case "os-nt":
		return loopOSNT
	case "os-mt":
		return loopOSMT
	case "os-k":
		return loopOSK
	case "col":
		return loopCol
	case "tile":
		return loopTile
	case "pack":
		return loopPack
	}
	panic("sim: unknown loop nest " + loop)
}

// timing is a mapping's timing as pipeline returns it.
type timing struct{ cycles, stream, folds int64 }

// maxTimings bounds a model's kept timings: when full they are dropped and kept anew.
const maxTimings = 1 << 14

// time sets c's cycles, stream cycles and folds: from the kept timings when the same tree was
// timed before, else by building its fold tree (kept in c.tree) and evaluating it. With
// keepTree the tree is always built.
func (m *model) time(c *mapping, grid FoldGrid, M, N, K, g int) {
	k := timingKey{R: m.R, C: m.C, Sr: grid.Sr, Sc: grid.Sc, T: grid.T, g: g,
		stationary: m.stationary, serial: m.opts.Serial, loop: loopKindOf(c.loop),
		st: c.st, kc: c.kc, mt: c.mt, nt: c.nt, pack: c.pack}
	if !m.keepTree {
		if t, ok := m.timings[k]; ok {
			c.cycles, c.stream, c.folds = t.cycles, t.stream, t.folds
			return
		}
	}
	c.tree = m.foldTree(c, k.loop, grid, M, N, K, g)
	c.cycles, c.stream, c.folds = m.pipeline(c.tree, c.treeGroups(int64(g)))
	if m.keepTree {
		return
	}
	if m.timings == nil || len(m.timings) >= maxTimings {
		m.timings = make(map[timingKey]timing, 256)
	}
	m.timings[k] = timing{c.cycles, c.stream, c.folds}
}

// foldTree builds the fold tree of one group of mapping c (of all groups when packed), the
// loop nest c.loop (docs/simulator.md §4.4).
func (m *model) foldTree(c *mapping, loop loopKind, grid FoldGrid, M, N, K, g int) fnode {
	R, C := m.R, m.C
	rF, cF := int64(grid.RowFolds), int64(grid.ColFolds)
	ruL, cuL := grid.RowsLast, grid.ColsLast
	switch loop {
	case loopOSN: // n-outer: per column fold, every row fold streams all of K
		nOuter := func(cu int) fnode { return m.block(1, m.frun(rF-1, K, R, cu), m.frun(1, K, ruL, cu)) }
		return m.seq(cF, nOuter(C), nOuter(cuL))
	case loopOSM: // m-outer: per row fold, every column fold streams all of K
		mOuter := func(ru int) fnode { return m.block(1, m.frun(cF-1, K, ru, C), m.frun(1, K, ru, cuL)) }
		return m.seq(rF, mOuter(R), mOuter(ruL))
	case loopOSNT: // N tiles of nt columns: each row fold over the tile's column folds
		nNt, ntL := split(N, c.nt)
		tile := func(cols int) fnode {
			cf, cu := split(cols, C)
			row := func(ru int) fnode { return m.block(1, m.frun(cf-1, K, ru, C), m.frun(1, K, ru, cu)) }
			return m.seq(rF, row(R), row(ruL))
		}
		return m.seq(nNt, tile(c.nt), tile(ntL))
	case loopOSMT: // M tiles of mt rows: each column fold over the tile's row folds
		nMt, mtL := split(M, c.mt)
		tile := func(rows int) fnode {
			rf, ru := split(rows, R)
			col := func(cu int) fnode { return m.block(1, m.frun(rf-1, K, R, cu), m.frun(1, K, ru, cu)) }
			return m.seq(cF, col(C), col(cuL))
		}
		return m.seq(nMt, tile(c.mt), tile(mtL))
	case loopOSK: // n-outer with K in chunks of kc, per M tile of mt rows
		kc := c.kc
		nK, kcL := split(K, kc)
		nMt, mtL := split(M, c.mt)
		tile := func(rows, cu int) fnode { // one M tile of one column fold
			rf, ru := split(rows, R)
			return m.block(1,
				m.block(nK-1, m.frun(rf-1, kc, R, cu), m.frun(1, kc, ru, cu)),
				m.frun(rf-1, kcL, R, cu), m.frun(1, kcL, ru, cu))
		}
		col := func(cu int) fnode { return m.seq(nMt, tile(c.mt, cu), tile(mtL, cu)) }
		return m.seq(cF, col(C), col(cuL))
	case loopPack: // packs of p groups, each over its column blocks and K-blocks
		p := c.pack
		rp, cp := R/p, C/p
		Kr, Sc, S := grid.Sr, grid.Sc, grid.T
		rf, ruL := split(Kr, rp)
		cf, cuL := split(Sc, cp)
		packs, pl := split(g, p)
		// One pack of q groups: a fold's used extent runs to the last group's block.
		pack := func(q int) fnode {
			kb := func(cu int) fnode {
				return m.block(1, m.frun(rf-1, S, (q-1)*rp+rp, (q-1)*cp+cu), m.frun(1, S, (q-1)*rp+ruL, (q-1)*cp+cu))
			}
			return m.seq(cf, kb(cp), kb(cuL))
		}
		return m.seq(packs, pack(p), pack(pl))
	}
	// ws, is: the streamed dimension in tiles of st, each tile over the K-blocks.
	st := c.st
	nT, stL := split(grid.T, st)
	kblocks := func(T, cu int) fnode { return m.block(1, m.frun(rF-1, T, R, cu), m.frun(1, T, ruL, cu)) }
	if loop == loopCol { // one column block: its tiles, each over the K-blocks
		colOuter := func(cu int) fnode { return m.seq(nT, kblocks(st, cu), kblocks(stL, cu)) }
		return m.seq(cF, colOuter(C), colOuter(cuL))
	}
	// one tile: its column blocks, each over the K-blocks
	tileOuter := func(T int) fnode { return m.seq(cF, kblocks(T, C), kblocks(T, cuL)) }
	return m.seq(nT, tileOuter(st), tileOuter(stL))
}
