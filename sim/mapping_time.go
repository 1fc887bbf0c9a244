package sim

import "math"

// A mapping's timing — its compute cycles, stream cycles and folds — follows from its fold
// tree, and the tree from the array, the GEMM's fold grid, the groups, the loop nest and its
// tile sizes alone: not from the SRAM sizes, which only decide which tiles the mapspace
// offers and the traffic of each. Points of a sweep that differ in SRAM (or in the
// activations kept on chip, which change the staging room) therefore offer mostly the same
// tiles, and a model keeps the timings it computed (timingKey) instead of building the same
// trees again.

// timingKey is everything a mapping's timing depends on: the array, the fold grid, the
// groups, the dataflow's kind and Options.Serial, the loop nest and its tile sizes (a: the
// N tile, M tile, stream tile or groups per pack; b: the K chunk — whichever the loop has).
type timingKey struct {
	R, C, g   int32
	flags     uint32 // loop kind, stationary, serial
	Sr, Sc, T int32
	a, b      int32
}

// timingEntry is one kept timing.
type timingEntry struct {
	k  timingKey
	ok bool
	t  timing // at offset 40: an entry is 64 bytes, one cache line
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

// timingSlots is the number of timings a model keeps, in a direct-mapped table: a timing
// whose slot another one takes is built again when needed.
const timingSlots = 1 << timingBits

const timingBits = 12

// timingKeyOf returns the key of c's timing, and false when a size does not fit the key
// (then the timing is not kept).
func (m *model) timingKeyOf(c *mapping, loop loopKind, grid FoldGrid, g int) (timingKey, bool) {
	const most = math.MaxInt32
	if max(m.R, m.C, g, grid.Sr, grid.Sc, grid.T) > most {
		return timingKey{}, false
	}
	k := timingKey{R: int32(m.R), C: int32(m.C), g: int32(g), flags: uint32(loop),
		Sr: int32(grid.Sr), Sc: int32(grid.Sc), T: int32(grid.T)}
	if m.stationary {
		k.flags |= 1 << 8
	}
	if m.opts.Serial {
		k.flags |= 1 << 9
	}
	// The tile sizes are at most the grid's sizes (or the groups, for pack).
	switch loop {
	case loopOSNT:
		k.a = int32(c.nt)
	case loopOSMT:
		k.a = int32(c.mt)
	case loopOSK:
		k.a, k.b = int32(c.mt), int32(c.kc)
	case loopPack:
		k.a = int32(c.pack)
	case loopCol, loopTile:
		k.a = int32(c.st)
	}
	return k, true
}

// slot returns k's slot in the table of kept timings.
func (k *timingKey) slot() int {
	const mul = 0x9e3779b97f4a7c15
	h := (uint64(k.R)<<32 | uint64(k.C)) * mul
	h = (h ^ (uint64(k.g)<<32 | uint64(k.flags))) * mul
	h = (h ^ (uint64(k.Sr)<<32 | uint64(k.Sc))) * mul
	h = (h ^ (uint64(k.T)<<32 | uint64(k.a))) * mul
	h = (h ^ uint64(k.b)) * mul
	return int(h >> (64 - timingBits))
}

// time sets c's cycles, stream cycles and folds: from the kept timings when the same tree was
// timed before, else by building its fold tree (kept in c.tree) and evaluating it. With
// keepTree the tree is always built.
func (m *model) time(c *mapping, grid FoldGrid, M, N, K, g int) {
	loop := loopKindOf(c.loop)
	if m.keepTree {
		c.tree = m.foldTree(c, loop, grid, M, N, K, g)
		c.cycles, c.stream, c.folds = m.pipeline(c.tree, c.treeGroups(int64(g)))
		return
	}
	k, keep := m.timingKeyOf(c, loop, grid, g)
	if !keep {
		c.tree = m.foldTree(c, loop, grid, M, N, K, g)
		c.cycles, c.stream, c.folds = m.pipeline(c.tree, c.treeGroups(int64(g)))
		return
	}
	if m.timings == nil {
		m.timings = make([]timingEntry, timingSlots)
	}
	e := &m.timings[k.slot()]
	if e.ok && e.k == k {
		m.timingHits++
		c.cycles, c.stream, c.folds = e.t.cycles, e.t.stream, e.t.folds
		return
	}
	c.tree = m.foldTree(c, loop, grid, M, N, K, g)
	c.cycles, c.stream, c.folds = m.pipeline(c.tree, c.treeGroups(int64(g)))
	*e = timingEntry{k: k, ok: true, t: timing{c.cycles, c.stream, c.folds}}
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
