package sim

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/internal/geom"
)

// model holds the hardware constants the native engine derives once per simulation.
type model struct {
	cfg    *hw.Config
	opts   Options
	batch  int
	R, C   int
	wb, ab int64   // bytes per operand word, per partial sum
	ifHalf int64   // bytes: the active half of each double-buffered SRAM (this layer's share, §4.5)
	fHalf  int64   //
	oHalf  int64   //
	ifLine int64   // bytes of the ifmap SRAM the line buffer may use (this layer's share)
	bwc    float64 // DRAM bytes per cycle; 0 means unlimited
	lanes  int64
	en     hw.EnergyTable // energies per access, derived ones filled in

	cands []mapping // the current layer's mapspace
	tree  []tnode   // the current layer's fold trees, when keepTree
	kids  []int32   // their kids' ids

	stationary bool // ws or is: the stationary operand is shifted in before each fold
	noOrder    bool // leave LayerResult.Order empty (totals only: no string per layer)
	keepTree   bool // keep the fold trees in tree and kids (for the tests that expand them)

	reuse []mapping // when set, the current GEMM layer's timed mapspace, built for an earlier point
	last  []mapping // the mapspace the last GEMM layer was scored over

	timings    []timingEntry // the timings of fold trees built before (time), timingSlots of them
	timingHits int           // mappings timed from timings (for the tests)
}

// scratch recycles the models of finished simulations with their scratch slices.
var scratch = sync.Pool{New: func() any { return new(model) }}

// release returns m for reuse by a later newModel.
func (m *model) release() { scratch.Put(m) }

func newModel(cfg *hw.Config, opts Options) *model {
	m := scratch.Get().(*model)
	m.reset(cfg, opts)
	return m
}

// reset derives the model's constants for cfg and opts, keeping its scratch slices.
func (m *model) reset(cfg *hw.Config, opts Options) {
	*m = model{cfg: cfg, opts: opts, batch: or1(opts.Batch), R: cfg.Rows, C: cfg.Cols,
		cands: m.cands[:0], tree: m.tree[:0], kids: m.kids[:0], timings: m.timings, timingHits: m.timingHits,
		wb: int64(cfg.BytesPerWord()), ab: int64(cfg.AccBytesPerWord()),
		ifHalf: cfg.IfmapSRAMBytes / 2, fHalf: cfg.FilterSRAMBytes / 2, oHalf: cfg.OfmapSRAMBytes / 2,
		lanes: int64(opts.VectorLanes), stationary: cfg.Dataflow != hw.OutputStationary, en: cfg.Energies()}
	if m.lanes == 0 {
		m.lanes = int64(cfg.Cols)
	}
	if cfg.DRAMBandwidth > 0 {
		m.bwc = cfg.DRAMBandwidth / cfg.ClockHz
	}
}

// stage sets the ifmap and ofmap SRAM bytes a layer may stage its operands in when
// resident activations hold resident bytes of the two (StagingBytes).
func (m *model) stage(resident int64) {
	ifB, ofB := StagingBytes(m.cfg, resident)
	m.ifHalf, m.oHalf, m.ifLine = ifB/2, ofB/2, ifB
}

// StagingBytes returns the bytes of the ifmap and ofmap SRAMs of cfg a layer stages its
// operands in while resident values hold resident bytes of the two (one SRAM, two uses;
// docs/simulator.md §4.5): what is left, free = A − resident with A = ifmap + ofmap SRAM, is
// split between them in proportion to their sizes, each never below the floor Validate
// requires (one fold's operands per half, hw.Config.MinSRAMBytes). So resident + ifmap +
// ofmap = A whenever free covers the two floors (ifmap + ofmap > free only when it does not,
// where the floors are kept so the array can still run).
func StagingBytes(cfg *hw.Config, resident int64) (ifmap, ofmap int64) {
	ifB, ofB := cfg.IfmapSRAMBytes, cfg.OfmapSRAMBytes
	if resident <= 0 {
		return ifB, ofB
	}
	a := ifB + ofB
	free := max(0, a-resident)
	minIf, _, minOf := cfg.MinSRAMBytes()
	ifB = max(minIf, int64(float64(ifB)*float64(free)/float64(a)))
	if free >= minIf+minOf {
		// Leave the ofmap its floor out of free rather than on top of it.
		ifB = min(ifB, free-minOf)
	}
	return ifB, max(minOf, free-ifB)
}

// traffic is how a layer's DRAM reads are spread over its outer tiles, for the roofline:
// tiles outer iterations of the chosen loop nest (all groups), of which heavy carry the
// one-time loads (the first outer tile of every group); onceBytes are read only during those.
type traffic struct {
	tiles, heavy int64
	onceBytes    int64
}

func (m *model) layer(l *Layer) LayerResult {
	m.stage(l.ResidentBytes)
	r := LayerResult{Name: l.Name, Kind: l.Kind.String(), InputOnChip: l.InputOnChip(0),
		OutputOnChip: l.OutputOnChip}
	tr := traffic{tiles: 1, heavy: 1}
	if l.Kind.OnArray() {
		tr = m.gemm(l, &r)
	} else {
		m.vector(l, &r)
	}
	r.SRAMReadBytes += r.SRAMIfmapReadBytes + r.SRAMFilterReadBytes + r.DRAMOfmapWriteBytes
	r.SRAMWriteBytes += r.SRAMOfmapWriteBytes + r.DRAMIfmapReadBytes + r.DRAMFilterReadBytes
	r.DRAMReadBytes = r.DRAMIfmapReadBytes + r.DRAMFilterReadBytes + r.DRAMPsumReadBytes
	r.DRAMWriteBytes = r.DRAMOfmapWriteBytes + r.DRAMPsumWriteBytes
	m.stalls(&r, tr)
	pes := float64(m.R * m.C)
	if r.Cycles > 0 {
		r.Utilization = float64(r.MACs) / (float64(r.Cycles) * pes)
	}
	if r.StreamCycles > 0 {
		r.MappingEfficiency = float64(r.MACs) / (float64(r.StreamCycles) * pes)
	}
	e := &m.en
	r.LatencyS = float64(r.Cycles) / m.cfg.ClockHz
	r.EnergyMACJ = float64(r.MACs+r.VectorOps) * e.MACpJ * 1e-12
	r.EnergySRAMJ = m.sramEnergy(r.SRAMIfmapReadBytes+r.DRAMIfmapReadBytes, r.SRAMFilterReadBytes+r.DRAMFilterReadBytes,
		r.SRAMOfmapWriteBytes+r.DRAMOfmapWriteBytes, r.AccReadBytes+r.AccWriteBytes) * 1e-12
	r.EnergyDRAMJ = float64(r.DRAMReadBytes+r.DRAMWriteBytes) * e.DRAMpJPerByte * 1e-12
	r.EnergyLeakageJ = e.LeakageW * r.LatencyS
	r.EnergyJ = r.EnergyMACJ + r.EnergySRAMJ + r.EnergyDRAMJ + r.EnergyLeakageJ
	return r
}

// sramEnergy returns the energy in pJ of the bytes read or written in each SRAM: the ifmap
// SRAM (array reads and DRAM fills), the filter SRAM (likewise), the ofmap SRAM (array writes
// and DRAM drains) and the partial-sum storage, each at its own cost per byte
// (hw.Config.Energies; one cost for all when the file overrides it).
func (m *model) sramEnergy(ifmap, filter, ofmap, psum int64) float64 {
	e := &m.en
	if e.OverriddenSRAMEnergy {
		return float64(ifmap+filter+ofmap+psum) * e.IfmapSRAMpJPerByte
	}
	return float64(ifmap)*e.IfmapSRAMpJPerByte + float64(filter)*e.FilterSRAMpJPerByte +
		float64(ofmap)*e.OfmapSRAMpJPerByte + float64(psum)*e.AccumpJPerByte
}

// stalls applies the per-tile DRAM roofline (roof) to a layer's traffic.
func (m *model) stalls(r *LayerResult, tr traffic) {
	r.Cycles = r.ComputeCycles
	if m.bwc <= 0 {
		return
	}
	d := r.DRAMReadBytes + r.DRAMWriteBytes
	r.DRAMTransferCycles = satCycles(math.Ceil(float64(d) / m.bwc))
	r.Cycles = m.roof(r.ComputeCycles, r.FirstLoadBytes, r.LastDrainBytes, d, tr)
	r.StallCycles = r.Cycles - r.ComputeCycles
}

// roof is the per-tile DRAM roofline (docs/simulator.md §4.6): a layer computing for compute
// cycles and moving d DRAM bytes takes
//
//	⌈F/b⌉ + compute + ⌈heavy·max(0, x_h/b − c) + (tiles − heavy)·max(0, x_n/b − c)⌉ + ⌈L/b⌉
//
// with b the DRAM bytes per cycle, F the first fold's operands (loaded before it can start),
// L the last fold's outputs (drained after it ends), c = compute/tiles the compute time of one
// outer tile of the loop nest, and x_n = (d − F − L − O)/tiles the bytes every tile moves while
// the previous one computes (double buffering); the heavy tiles — the first outer tile of each
// group — also move their share of O = onceBytes − F, the operand loaded once and then reused
// from the SRAM: x_h = x_n + O/heavy. A tile takes the longer of its compute and its
// transfer; more bandwidth never makes a layer slower.
func (m *model) roof(compute, first, last, d int64, tr traffic) int64 {
	if m.bwc <= 0 {
		return compute
	}
	cyc := func(bytes int64) int64 { return satCycles(math.Ceil(float64(bytes) / m.bwc)) }
	x := d - first - last // moved while computing
	xOnce := min(x, max(0, tr.onceBytes-first))
	xRest := x - xOnce
	n, h := float64(tr.tiles), float64(tr.heavy)
	c := float64(compute) / n
	heavy := (float64(xOnce)/h + float64(xRest)/n) / m.bwc
	normal := float64(xRest) / n / m.bwc
	extra := h*max(0, heavy-c) + (n-h)*max(0, normal-c)
	// Rounding: a stall that exists only in the last bits of the float sum is none.
	a, b, z := cyc(first), satCycles(math.Ceil(extra-1e-9*float64(compute))), cyc(last)
	if a >= maxTermCycles || b >= maxTermCycles || z >= maxTermCycles {
		return OverflowCycles // the layer's cycle count would not fit an int64
	}
	cycles := a + compute + b + z
	return max(cycles, compute)
}

// OverflowCycles is the cycle count at which the native engine gives up: a layer whose DRAM
// transfers alone would take this long (a DRAM bandwidth tiny for its clock) makes Simulate
// fail with ErrOverflow instead of returning a wrapped-around count.
const OverflowCycles = 1 << 62

// maxTermCycles bounds each term of roof's sum so that the sum (with compute cycles below
// 2^52, Simulate's work bound) cannot pass OverflowCycles.
const maxTermCycles = 1 << 60

// satCycles converts a non-negative cycle count computed in floating point to an int64,
// saturating at OverflowCycles (a float beyond int64's range would convert to garbage).
func satCycles(x float64) int64 {
	if !(x < maxTermCycles) {
		return OverflowCycles
	}
	return int64(x)
}

// vector costs an elementwise layer: ops / lanes cycles, each input read once and the output
// written once; a pooling window's elements are read from SRAM per use.
func (m *model) vector(l *Layer, r *LayerResult) {
	b := int64(m.batch)
	r.VectorOps = l.VectorOps() * b
	r.ComputeCycles = ceilDiv64(r.VectorOps, m.lanes)
	out := l.OutElems() * b
	in := l.InElems() * b
	var dramIn int64
	for i := range l.Inputs() {
		if !l.InputOnChip(i) {
			dramIn += in
		}
	}
	params := l.WeightWords()
	var sramIn int64
	switch l.Kind {
	case Pool, GlobalPool, AdaptivePool:
		sramIn = r.VectorOps
	default:
		sramIn = int64(l.Inputs()) * out
	}
	r.SRAMIfmapReadBytes = sramIn * m.wb
	r.SRAMFilterReadBytes = params * m.wb
	r.SRAMOfmapWriteBytes = out * m.wb
	r.DRAMIfmapReadBytes = dramIn * m.wb
	r.DRAMFilterReadBytes = params * m.wb
	if !l.OutputOnChip {
		r.DRAMOfmapWriteBytes = out * m.wb
	}
	r.UniqueIfmapBytes = int64(l.Inputs()) * in * m.wb
	r.UniqueFilterBytes = params * m.wb
	r.UniqueOfmapBytes = out * m.wb
	r.FirstLoadBytes = min(r.DRAMIfmapReadBytes+r.DRAMFilterReadBytes, m.lanes*int64(l.Inputs())*m.wb)
	r.LastDrainBytes = min(r.DRAMOfmapWriteBytes, m.lanes*m.wb)
}

// fnode is a fold sequence in compressed form — a run of n consecutive folds of equal shape
// (frun), or a sequence of kids repeated rep times (block) — reduced to its timing, which is
// computed when the node is built from its kids' timings, so a mapping's tree is evaluated
// as it is built and nothing is walked afterwards. When the model keeps trees (the tests
// that expand them into folds) id names the node's tnode in model.tree, 1-based. A node
// holds no pointers, so building trees costs no garbage-collector work.
type fnode struct {
	feval
	id int32
}

// tnode is a kept fold-tree node: a run of n folds of shape (T, ru, cu) when nk is 0, else
// its nk kids (model.kids[k0:k0+nk], tnode ids) repeated rep times.
type tnode struct {
	n, rep    int64
	T, ru, cu int32
	k0, nk    int32
}

// frun returns a run of n folds of stream length T using ru rows and cu columns.
func (m *model) frun(n int64, T, ru, cu int) fnode {
	var f fnode
	if m.keepTree {
		m.tree = append(m.tree, tnode{n: n, T: int32(T), ru: int32(ru), cu: int32(cu)})
		f.id = int32(len(m.tree))
	}
	if n <= 0 {
		return f
	}
	t32, ru32 := int32(T), int32(ru)
	T, ru, cu = int(t32), int(ru32), int(int32(cu)) // as a kept tree stores them
	inner := (n - 1) * m.iv(T, ru, T, m.stationary)
	f.feval = feval{firstT: t32, lastT: t32, lastRu: ru32, inner: inner,
		end: inner + m.off(T, ru, cu, m.stationary), stream: n * int64(T), folds: n}
	return f
}

// block returns the sequence kids repeated rep times, with its timing (docs/simulator.md
// §4.3).
func (m *model) block(rep int64, kids ...fnode) fnode {
	var f fnode
	if m.keepTree {
		k0 := len(m.kids)
		for i := range kids {
			m.kids = append(m.kids, kids[i].id)
		}
		m.tree = append(m.tree, tnode{rep: rep, k0: int32(k0), nk: int32(len(kids))})
		f.id = int32(len(m.tree))
	}
	if rep <= 0 {
		return f
	}
	// One repetition: the kids one after another.
	one := &f.feval
	for i := range kids {
		e := &kids[i].feval
		if e.folds == 0 {
			continue
		}
		if one.folds == 0 {
			*one = *e
			continue
		}
		s := one.inner + m.iv(int(one.lastT), int(one.lastRu), int(e.firstT), m.stationary) // start of e
		one.end = max(one.end, s+e.end)
		one.inner = s + e.inner
		one.lastT, one.lastRu = e.lastT, e.lastRu
		one.stream += e.stream
		one.folds += e.folds
	}
	if one.folds == 0 || rep == 1 {
		return f
	}
	// rep repetitions: each starts one period after the previous; ends grow with the start.
	period := one.inner + m.iv(int(one.lastT), int(one.lastRu), int(one.firstT), m.stationary)
	r := rep - 1
	one.inner += r * period
	one.end += r * period
	one.stream *= rep
	one.folds *= rep
	return f
}

// score is what the mapper compares mappings on.
type score struct {
	cycles, compute, dram int64   // with stalls; without; DRAM bytes read (psums twice)
	energy                float64 // joules
}

// better reports whether a beats b on the model's objective, ties broken by the other
// criteria: latency → energy → DRAM bytes; energy → latency → DRAM; EDP → latency → energy →
// DRAM; DRAM → latency → energy (the heuristic of earlier versions minimized DRAM bytes, then
// cycles). Compute cycles (without stalls) break the last tie.
func (m *model) better(a, b score) bool {
	var c int
	switch m.opts.Objective {
	case ObjectiveEnergy:
		if c = cmpF(a.energy, b.energy); c == 0 {
			if c = cmpI(a.cycles, b.cycles); c == 0 {
				c = cmpI(a.dram, b.dram)
			}
		}
	case ObjectiveEDP:
		if c = cmpF(a.energy*float64(a.cycles), b.energy*float64(b.cycles)); c == 0 {
			if c = cmpI(a.cycles, b.cycles); c == 0 {
				if c = cmpF(a.energy, b.energy); c == 0 {
					c = cmpI(a.dram, b.dram)
				}
			}
		}
	case ObjectiveDRAM:
		if c = cmpI(a.dram, b.dram); c == 0 {
			if c = cmpI(a.cycles, b.cycles); c == 0 {
				c = cmpF(a.energy, b.energy)
			}
		}
	default:
		if c = cmpI(a.cycles, b.cycles); c == 0 {
			if c = cmpF(a.energy, b.energy); c == 0 {
				c = cmpI(a.dram, b.dram)
			}
		}
	}
	if c != 0 {
		return c < 0
	}
	return a.compute < b.compute
}

// cmpI compares two integers: -1, 0 or 1.
func cmpI(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// cmpF compares two energies: -1, 0 or 1; energies that differ only in the last bits of
// their float sums are equal.
func cmpF(x, y float64) int {
	if d := x - y; d < -1e-12*max(x, y) {
		return -1
	} else if d > 1e-12*max(x, y) {
		return 1
	}
	return 0
}

// mappingEnergy is the energy the layer would take with mapping c (docs/simulator.md §4.8):
// MACs, SRAM traffic (operand reads, ofmap writes, DRAM fills ifB and fB and drains, partial
// sums), DRAM bytes and leakage over cycles.
func (m *model) mappingEnergy(c *mapping, G, MN, macs, dram, ifB, fB, drains, cycles int64) float64 {
	e := &m.en
	var psum int64
	if c.nK > 1 {
		psum = 2 * MN * (c.nK - 1) * G * m.ab
	}
	sram := m.sramEnergy(c.sramA*G*m.wb+ifB, c.sramB*G*m.wb+fB, MN*G*m.wb+drains, psum)
	return (float64(macs)*e.MACpJ+sram+float64(dram)*e.DRAMpJPerByte)*1e-12 +
		e.LeakageW*float64(cycles)/m.cfg.ClockHz
}

// mapping is one point of a GEMM's mapspace: a loop order, tiles, and whether partial sums
// accumulate outside the array (on chip or spilled); with its DRAM and SRAM words per group
// and its fold sequence.
type mapping struct {
	order        string
	loop         string // the loop nest: os-n, os-m, os-nt, os-mt, os-k (os); col, tile (ws, is)
	st, kc       int    // ws/is stream tile; os K chunk (os-k)
	mt, nt       int    // os M tile (os-mt, os-k) and N tile (os-nt)
	tree         fnode  // the folds of one group, in order
	a, b         int64  // DRAM words per group: ifmap, filter
	aOnce, bOnce bool   // the operand is loaded during the first outer tile only, then reused
	outer        int64  // outer tiles per group (the roofline's tiles)
	sramA, sramB int64  // SRAM read words per group: ifmap, filter
	nK           int64  // partial-sum passes per output (ws/is: K-blocks; os: K chunks)
	spill        bool   // partial sums go to DRAM between passes
	fa, fb, lo   int64  // the first fold's ifmap and filter words, the last fold's outputs
	cycles       int64
	stream       int64
	folds        int64
	pack         int   // groups packed side by side on the array per fold (0: one group per fold)
	heavy        int64 // packed: the roofline's heavy tiles (the first of each pack)
}

// treeGroups returns how often the mapping's fold tree runs: once per group, or once in all
// when the tree already holds every group (packed groups).
func (mp *mapping) treeGroups(G int64) int64 {
	if mp.pack > 0 {
		return 1
	}
	return G
}

// describe names the mapping for LayerResult.Order: the loop order ("n-outer": filter
// blocks outer, "m-outer": ifmap rows or pixel blocks outer), then for ws/is the streamed
// tile ("tile=196") and a partial-sum spill, for os a K chunk and M tile when K is cut.
func (mp *mapping) describe() string {
	switch {
	case mp.loop == "os-k":
		return fmt.Sprintf("%s k-chunk=%d m-tile=%d", mp.order, mp.kc, mp.mt)
	case mp.loop == "os-nt":
		return fmt.Sprintf("%s n-tile=%d", mp.order, mp.nt)
	case mp.loop == "os-mt":
		return fmt.Sprintf("%s m-tile=%d", mp.order, mp.mt)
	case mp.loop == "pack":
		s := fmt.Sprintf("packed=%d", mp.pack)
		if mp.spill {
			s += " spill"
		}
		return s
	case mp.loop == "col" || mp.loop == "tile":
		s := fmt.Sprintf("%s tile=%d", mp.order, mp.st)
		if mp.spill {
			s += " spill"
		}
		return s
	}
	return mp.order
}

// gemm costs a Conv or GEMM layer and returns how its traffic is spread over its tiles.
func (m *model) gemm(l *Layer, r *LayerResult) traffic {
	M, N, K, g := l.GEMMShape(m.batch)
	G := int64(g)
	r.M, r.N, r.K, r.Groups = int64(M), int64(N), int64(K), G
	r.MACs = l.MACs(m.batch)
	MN := int64(M) * int64(N)

	// The mapspace with each mapping's folds timed; it depends on the layer and on the
	// hardware but for its DRAM bandwidth, clock and energy table (mapspaceKey), so an Engine
	// may hand in the one it built for an earlier point (m.reuse).
	cands := m.reuse
	if cands == nil {
		cands = m.mappings(l, M, N, K, g)
	}
	m.last = cands
	inOn := l.InputOnChip(0)
	bias := int64(0)
	if l.Bias {
		bias = int64(l.OutC)
	}
	ofBytes := MN * G * m.wb
	if l.OutputOnChip {
		ofBytes = 0
	}
	// The DRAM traffic of a mapping, and how it is spread over the tiles.
	cost := func(c *mapping) (ifB, fB, psum int64, tr traffic) {
		if !inOn {
			ifB = c.a * G * m.wb
		}
		fB = (c.b*G + bias) * m.wb
		if c.spill {
			psum = MN * (c.nK - 1) * G * m.ab
		}
		tr = traffic{tiles: c.outer * G, heavy: G}
		if c.pack > 0 {
			tr = traffic{tiles: c.outer, heavy: c.heavy}
		}
		if c.outer > 1 { // with one outer tile every tile is a first tile
			if c.aOnce {
				tr.onceBytes += ifB
			}
			if c.bOnce {
				tr.onceBytes += c.b * G * m.wb
			}
		}
		return
	}
	// Every mapping is scored on the objective (Options.Objective); ties go to the other
	// criteria in a fixed order (see better).
	best := -1
	var bestScore score
	for i := range cands {
		c := &cands[i]
		ifB, fB, psum, tr := cost(c)
		bytes := ifB + fB + 2*psum
		first := min(c.fa*m.wb, ifB) + min(c.fb*m.wb, fB)
		last := min(c.lo*m.wb, ofBytes)
		cycles := m.roof(c.cycles, first, last, bytes+ofBytes, tr)
		sc := score{cycles: cycles, compute: c.cycles, dram: bytes,
			energy: m.mappingEnergy(c, G, MN, r.MACs, bytes+ofBytes, ifB, fB, ofBytes, cycles)}
		if best < 0 || m.better(sc, bestScore) {
			best, bestScore = i, sc
		}
	}
	bm := &cands[best]
	if !m.noOrder {
		r.Order = bm.describe()
	}
	r.Folds = bm.folds
	r.ComputeCycles, r.StreamCycles = bm.cycles, bm.stream
	r.PipelineOverheadCycles = r.ComputeCycles - r.StreamCycles

	// SRAM traffic (words → bytes), all groups.
	r.SRAMIfmapReadBytes = bm.sramA * G * m.wb
	r.SRAMFilterReadBytes = bm.sramB * G * m.wb
	r.SRAMOfmapWriteBytes = MN * G * m.wb
	if bm.nK > 1 {
		// Every pass but the last stores its partial sums, every pass but the first reads
		// them back; the last pass adds in the output path and writes the ofmap word.
		p := MN * (bm.nK - 1) * G * m.ab
		r.AccWriteBytes, r.AccReadBytes = p, p
		if bm.spill {
			r.DRAMPsumWriteBytes, r.DRAMPsumReadBytes = p, p
		}
	}
	ifB, fB, _, tr := cost(bm)
	r.DRAMIfmapReadBytes, r.DRAMFilterReadBytes, r.DRAMOfmapWriteBytes = ifB, fB, ofBytes
	r.SRAMFilterReadBytes += bias * m.wb
	r.UniqueIfmapBytes = uniqueIfmapWords(l, m.batch) * m.wb
	r.UniqueFilterBytes = (int64(K)*int64(N)*G + bias) * m.wb
	r.UniqueOfmapBytes = MN * G * m.wb

	// The first fold's operands and the last fold's outputs are exposed.
	r.FirstLoadBytes = min(bm.fa*m.wb, r.DRAMIfmapReadBytes) + min(bm.fb*m.wb, r.DRAMFilterReadBytes)
	r.LastDrainBytes = min(bm.lo*m.wb, r.DRAMOfmapWriteBytes)
	return tr
}

// mappings lists the mapspace of one group's GEMM (docs/simulator.md §4.4). Each mapping's
// DRAM words follow from what fits in the SRAMs; the caller keeps the cheapest. Every option
// stays available when a buffer grows and its traffic never grows with a buffer, so more SRAM
// never costs more traffic.
func (m *model) mappings(l *Layer, M, N, K, g int) []mapping {
	cands := m.mapspace(l, M, N, K, g)
	grid := MapGEMM(m.cfg.Dataflow, m.R, m.C, M, N, K)
	for i := range cands {
		m.time(&cands[i], grid, M, N, K, g)
	}
	return cands
}

// mapspace lists the mappings of one group's GEMM with their traffic, not yet timed.
func (m *model) mapspace(l *Layer, M, N, K, g int) []mapping {
	R, C := m.R, m.C
	df := m.cfg.Dataflow
	grid := MapGEMM(df, R, C, M, N, K)
	rF, cF := int64(grid.RowFolds), int64(grid.ColFolds)
	MK, KN := int64(M)*int64(K), int64(K)*int64(N)
	ruL, cuL := grid.RowsLast, grid.ColsLast

	// Operand footprints per group, in words. au: the ifmap words a group touches; sweepA:
	// what one sweep over the ifmap costs in DRAM words (see sweepWords).
	au := uniqueIfmapWords(l, m.batch) / int64(g)
	inOn := l.InputOnChip(0)
	sweepA := au
	if !inOn {
		sweepA = m.sweepWords(l, g, au, MK)
	}
	fitsA := inOn || m.fits(au, m.ifHalf)
	// Partial sums of an output tile wait in the accumulator or the ofmap SRAM's active half,
	// whichever is larger.
	accWords := max(m.cfg.AccumBytes, m.oHalf) / m.ab

	m.tree, m.kids = m.tree[:0], m.kids[:0]
	cands := m.cands[:0]
	defer func() { m.cands = cands[:0] }()
	if df == hw.OutputStationary {
		first := int64(min(K, R))
		base := mapping{sramA: MK * cF, sramB: KN * rF, nK: 1, a: sweepA * cF, b: KN * rF,
			fa: int64(min(M, R)) * first, fb: int64(min(N, C)) * first, lo: int64(ruL) * int64(cuL)}

		// n-outer (SCALE-Sim's order): a K×C filter block is reused by every row fold when it
		// fits; the ifmap is swept once per column fold unless it fits.
		n1 := base
		n1.order, n1.loop, n1.outer = "n-outer", "os-n", cF
		if fitsA {
			n1.a, n1.aOnce = au, true
		}
		if m.fits(int64(K)*int64(min(N, C)), m.fHalf) {
			n1.b = KN
		}
		cands = append(cands, n1)

		// m-outer: an R-row ifmap block is reused by every column fold; the filter is swept
		// once per row fold unless it fits.
		m1 := base
		m1.order, m1.loop, m1.outer = "m-outer", "os-m", rF
		if fitsA || m.fits(min(int64(min(M, R))*int64(K), au), m.ifHalf) {
			m1.a = sweepA
		}
		if m.fits(KN, m.fHalf) {
			m1.b, m1.bOnce = KN, true
		}
		cands = append(cands, m1)

		// The same two orders with the outer loop over tiles of several folds: N tiles of Nt
		// columns whose K×Nt filter block fits (the ifmap is then swept once per N tile, its
		// R-row blocks reused by the tile's column folds), and M tiles of Mt rows whose ifmap
		// footprint fits (the filter is then streamed once per M tile, its K×C blocks reused by
		// the tile's row folds). Nt = C and Mt = R are n-outer and m-outer above.
		if ntMax := int(min(int64(N), m.fHalf/(int64(K)*m.wb))); ntMax > C {
			if ntMax < N {
				ntMax -= ntMax % C
			}
			var buf [maxGrid + 1]int
			for _, nt := range tileSizes(&buf, 2*C, ntMax) {
				nNt, ntL := split(N, nt)
				n2 := base
				n2.order, n2.loop, n2.nt, n2.outer = "n-outer", "os-nt", nt, nNt
				n2.b = KN
				switch {
				case fitsA:
					n2.a, n2.aOnce = au, true
				case m.fits(min(int64(min(M, R))*int64(K), au), m.ifHalf):
					n2.a = sweepA * nNt
				}
				_, cuLt := split(ntL, C)
				n2.lo = int64(ruL) * int64(cuLt)
				cands = append(cands, n2)
			}
		}
		if mtMax := m.ifmapRows(l, g, M, K, au); mtMax > R {
			var buf [maxGrid + 1]int
			for _, mt := range tileSizes(&buf, 2*R, mtMax) {
				nMt, mtL := split(M, mt)
				m2 := base
				m2.order, m2.loop, m2.mt, m2.outer = "m-outer", "os-mt", mt, nMt
				m2.a = sweepA
				switch {
				case m.fits(KN, m.fHalf):
					m2.b, m2.bOnce = KN, true
				case m.fits(int64(K)*int64(min(N, C)), m.fHalf):
					m2.b = KN * nMt
				}
				_, ruLt := split(mtL, R)
				m2.lo = int64(ruLt) * int64(cuL)
				cands = append(cands, m2)
			}
		}

		// n-outer with K cut into chunks whose K×C filter block fits the filter SRAM half:
		// each chunk is reused by the row folds of an M tile, the PEs drain partial sums after
		// every chunk and the output path accumulates them in the accumulator (or the ofmap
		// SRAM), M·C of them per M tile. Only when the whole block does not fit.
		if cw := int64(min(N, C)); !m.fits(int64(K)*cw, m.fHalf) {
			kc0 := m.fHalf / (cw * m.wb)
			mt := min(int64(M), accWords/cw)
			if mt < int64(M) {
				mt -= mt % int64(R)
			}
			var buf [maxGrid + 1]int64
			for _, kcMax := range chunkSizes(&buf, kc0, int64(R)) {
				if mt < 1 {
					break
				}
				kc := int(ceilDiv64(int64(K), ceilDiv64(int64(K), kcMax))) // balanced chunks
				nK, _ := split(K, kc)
				nMt, mtL := split(M, int(mt))
				k1 := base
				k1.order = "n-outer"
				k1.loop, k1.kc, k1.mt = "os-k", kc, int(mt)
				k1.outer, k1.nK = cF, nK
				k1.b = KN * nMt
				if fitsA {
					k1.a, k1.aOnce = au, true
				}
				k1.fa, k1.fb = int64(min(M, R))*int64(min(kc, R)), cw*int64(min(kc, R))
				_, ruLt := split(mtL, R)
				k1.lo = int64(ruLt) * int64(cuL)
				cands = append(cands, k1)
			}
		}
		return cands
	}

	// ws: stationary filter blocks (K-block × N-block), M streamed in tiles;
	// is: stationary ifmap blocks (K-block × M-block), N streamed in tiles.
	// A tile of St rows needs St·C partial sums on chip while its rF K-blocks accumulate. With
	// a single K-block nothing accumulates and the tile is the whole dimension.
	S := grid.T
	stMax := S
	if rF > 1 {
		stMax = int(min(int64(S), accWords/int64(C)))
	}
	if stMax >= 1 {
		// The largest tile, the largest whose reused operand slice fits its SRAM half, and
		// a geometric grid of smaller ones (tileSizes).
		half := m.ifHalf
		if df == hw.InputStationary {
			half = m.fHalf
		}
		fit := int(min(int64(stMax), half/(int64(K)*m.wb)))
		var buf [maxGrid + 1]int
		sizes := tileSizes(&buf, R, stMax)
		for _, st := range sizes {
			cands = m.stationaryMappings(cands, grid, st, false, au, sweepA, fitsA, M, N, K)
		}
		if fit >= 1 && fit < stMax && !slices.Contains(sizes, fit) {
			cands = m.stationaryMappings(cands, grid, fit, false, au, sweepA, fitsA, M, N, K)
		}
	}
	if rF > 1 {
		cands = m.stationaryMappings(cands, grid, S, true, au, sweepA, fitsA, M, N, K)
	}
	for p := 2; p <= min(g, R, C); p++ {
		cands = m.packedMapping(cands, grid, g, p, accWords, au, sweepA, fitsA)
	}
	return cands
}

// packedMapping appends the ws/is mapping that packs p groups of a grouped convolution side
// by side on the array (docs/simulator.md §4.4): each group of a pack gets a ⌊R/p⌋×⌊C/p⌋
// block on the diagonal, the off-diagonal PEs hold zeros, and the pack's groups stream their
// shared dimension together. Loop nest: packs, column blocks, K-blocks, the whole stream.
// Only when it needs fewer folds than one group at a time.
func (m *model) packedMapping(cands []mapping, grid FoldGrid, g, p int, accWords, au, sweepA int64, fitsA bool) []mapping {
	R, C := m.R, m.C
	rp, cp := R/p, C/p
	K, Sc, S := grid.Sr, grid.Sc, grid.T
	rf, _ := split(K, rp)
	cf, cuL := split(Sc, cp)
	packs, pl := split(g, p)
	if packs*cf*rf >= int64(g)*int64(grid.RowFolds)*int64(grid.ColFolds) {
		return cands
	}
	KS, KN := int64(K)*int64(S), int64(K)*int64(Sc) // per group: ws K·M and K·N; is K·N and K·M
	mp := mapping{order: "packed", loop: "pack", pack: p, st: S, nK: rf,
		outer: packs * cf, heavy: packs,
		spill: rf > 1 && int64(S)*int64(C) > accWords}
	if m.cfg.Dataflow == hw.WeightStationary { // rows K, columns N, stream M
		mp.sramA, mp.sramB = KS*cf, KN
		mp.a, mp.b = sweepA*cf, KN
		if fitsA {
			mp.a, mp.aOnce = au, true
		}
	} else { // is: rows K, columns M, stream N
		mp.sramA, mp.sramB = KN, KS*cf
		mp.a, mp.b = sweepA, KS*cf
		if m.fits(KS, m.fHalf) {
			mp.b, mp.bOnce = KS, true
		}
	}
	mp.fa = int64(min(K, rp)) * int64(min(S, R)) * int64(min(p, g))
	mp.fb = int64(min(K, rp)) * int64(min(Sc, cp)) * int64(min(p, g))
	mp.lo = int64(min(S, R)) * int64((pl-1)*cp+cuL)
	return append(cands, mp)
}

// stationaryMappings appends to cands the two loop orders of a ws or is GEMM whose streamed
// dimension (M for ws, N for is) is cut into tiles of st (spill: st is the whole dimension
// and partial sums go to DRAM between K-blocks).
func (m *model) stationaryMappings(cands []mapping, grid FoldGrid, st int, spill bool, au, sweepA int64, fitsA bool, M, N, K int) []mapping {
	R, C := m.R, m.C
	df := grid.Dataflow
	rF, cF := int64(grid.RowFolds), int64(grid.ColFolds)
	KN, MK := int64(K)*int64(N), int64(M)*int64(K)
	nT, stL := split(grid.T, st)
	cuL := grid.ColsLast
	base := mapping{nK: rF, spill: spill, st: st}
	if df == hw.WeightStationary {
		base.sramA, base.sramB = MK*cF, KN*nT
		base.a, base.b = sweepA*cF, KN*nT
		base.fa, base.fb = int64(min(K, R))*int64(min(st, R)), int64(min(K, R))*int64(min(N, C))
	} else {
		base.sramA, base.sramB = MK*nT, KN*cF
		base.a, base.b = sweepA*nT, KN*cF
		base.fa, base.fb = int64(min(K, R))*int64(min(M, C)), int64(min(K, R))*int64(min(st, R))
	}
	base.lo = int64(min(stL, R)) * int64(cuL)
	first, second := base, base
	first.outer, second.outer = cF, nT
	first.loop, second.loop = "col", "tile"
	if df == hw.WeightStationary {
		// Column blocks are filter blocks, reused across M tiles when they fit; the ifmap is
		// swept once per filter block unless it fits (n-outer), or an M tile's rows are
		// reused across filter blocks when they fit (m-outer).
		first.order, second.order = "n-outer", "m-outer"
		if fitsA {
			first.a, first.aOnce = au, true
		}
		if m.fits(int64(K)*int64(min(N, C)), m.fHalf) {
			first.b = KN
		}
		if fitsA || m.fits(min(int64(st)*int64(K), au), m.ifHalf) {
			second.a = sweepA
		}
		if m.fits(KN, m.fHalf) {
			second.b, second.bOnce = KN, true
		}
	} else {
		// Column blocks are pixel blocks of the stationary ifmap, loaded once per N tile
		// unless they fit (m-outer); the filter is swept once per pixel block unless it fits.
		// Or N tiles outer, each tile's filter slice reused across pixel blocks (n-outer).
		first.order, second.order = "m-outer", "n-outer"
		if fitsA || m.fits(min(int64(min(M, C))*int64(K), au), m.ifHalf) {
			first.a = sweepA
		}
		if m.fits(KN, m.fHalf) {
			first.b, first.bOnce = KN, true
		}
		if fitsA {
			second.a, second.aOnce = au, true
		}
		if m.fits(int64(K)*int64(st), m.fHalf) {
			second.b = KN
		}
	}
	return append(cands, first, second)
}

// maxGrid bounds the smaller tile sizes tried per tiling (tileSizes, chunkSizes).
const maxGrid = 5

// tileSizes returns the tile sizes the mapper tries below and at max: max itself and the
// grid step·2^i (i ≥ 0) below it, at most maxGrid of them, the largest first. The grid does
// not depend on the SRAM sizes, so a grid tile that fits stays in the mapspace when a buffer
// grows.
func tileSizes(buf *[maxGrid + 1]int, step, max int) []int {
	out := append(buf[:0], max)
	if step <= 0 || step >= max {
		return out
	}
	top := step // the largest step·2^i below max
	for top*2 < max && top*2 > 0 {
		top *= 2
	}
	for t := top; t >= step && len(out) <= maxGrid; t /= 2 {
		out = append(out, t)
	}
	return out
}

// chunkSizes returns the os K-chunk bounds the mapper tries: the largest that fits (max) and
// max/2, max/4, … while at least minimum (and 1), at most maxGrid+1 of them.
func chunkSizes(buf *[maxGrid + 1]int64, max, minimum int64) []int64 {
	out := buf[:0]
	for c := max; c >= 1 && len(out) <= maxGrid && (c >= minimum || len(out) == 0); c /= 2 {
		out = append(out, c)
	}
	return out
}

// fits reports whether words operand words fit in half bytes of SRAM.
func (m *model) fits(words, half int64) bool { return words*m.wb <= half }

// seq returns n−1 repetitions of full followed by last: n folds or tiles of which only the
// last may be partial.
func (m *model) seq(n int64, full, last fnode) fnode {
	return m.block(1, m.block(n-1, full), last)
}

// split cuts n into ⌈n/size⌉ pieces of size, the last one possibly smaller, and returns the
// number of pieces and the size of the last.
func split(n, size int) (pieces int64, last int) {
	p := (n + size - 1) / size
	return int64(p), n - (p-1)*size
}

// pipeline returns the compute cycles, the stream cycles (Σ fold stream lengths) and the
// folds of a fold sequence run groups times back to back (docs/simulator.md §4.3).
// Pipelined: fold f+1 starts iv(f, f+1) cycles after fold f, with
//
//	os:     iv = max(T, T + ru − T')   (T' the next fold's stream; = max(T, ru) when T' = T)
//	ws, is: iv = max(T, R)
//
// ws and is start the first fold after its block is shifted in (R cycles); the GEMM ends
// with the latest fold end, T+ru+cu−2 (os) or T+R+cu−2 (ws, is) after the fold's start.
// Serial (Options.Serial): every fold takes SCALE-Sim's per-fold count, T+R+C−2 (os) or
// 2R+C+T−2 (ws, is). The sequence is evaluated in its compressed form, so the cost is
// O(nodes), not O(folds).
func (m *model) pipeline(tree fnode, groups int64) (cycles, stream, folds int64) {
	e := m.block(groups, tree).feval
	start := int64(0)
	if m.stationary && !m.opts.Serial {
		start = int64(m.R)
	}
	return start + e.end, e.stream, e.folds
}

// feval is a fold sequence's timing, relative to the start of its first fold.
// It is empty (no folds) when folds is 0.
type feval struct {
	firstT        int32 // stream length of the first fold
	lastT, lastRu int32 // shape of the last fold
	inner         int64 // start of the last fold
	end           int64 // latest fold end
	stream, folds int64
}

// iv returns the cycles between the start of a fold (T, ru) and the start of the next fold,
// whose stream length is next.
func (m *model) iv(T, ru, next int, stationary bool) int64 {
	t := int64(T)
	switch {
	case m.opts.Serial:
		return scaleSimFoldCycles(stationary, m.R, m.C, T)
	case stationary:
		return max(t, int64(m.R))
	default:
		// The PEs are busy T cycles; a column's output bus carries ru results, the first
		// of the next fold arriving T' cycles after it starts.
		return max(t, t+int64(ru)-int64(next))
	}
}

// off returns the cycles from a fold's start to its end.
func (m *model) off(T, ru, cu int, stationary bool) int64 {
	switch {
	case m.opts.Serial:
		return scaleSimFoldCycles(stationary, m.R, m.C, T)
	case stationary:
		return int64(T) + int64(m.R) + int64(cu) - 2
	default:
		return int64(T) + int64(ru) + int64(cu) - 2
	}
}

// ifmapRows returns the largest M tile — a multiple of R, or all of M — whose ifmap footprint
// fits the ifmap SRAM half: for a Conv the input rows its output rows need (whole width), for
// a GEMM its rows of K, never more than im2col's Mt·K or the whole ifmap au.
func (m *model) ifmapRows(l *Layer, g, M, K int, au int64) int {
	foot := func(rows int) int64 {
		w := int64(rows) * int64(K)
		if l.Kind == Conv {
			oh, ow := l.OutDims()
			outRows := min(int64(oh)*int64(m.batch), ceilDiv64(int64(rows), int64(ow))+1)
			inRows := (outRows-1)*int64(or1(l.StrideH)) + int64(or1(l.KH))
			w = min(w, inRows*int64(l.InW)*int64(l.InC/g))
		}
		return min(w, au) * m.wb
	}
	if foot(M) <= m.ifHalf {
		return M
	}
	lo, hi := 0, (M-1)/m.R // foot(lo·R) fits (or lo = 0), foot((hi+1)·R) does not
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if foot(mid*m.R) <= m.ifHalf {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return lo * m.R
}

// sweepWords returns the DRAM words one sweep over a group's ifmap costs (au words touched,
// mk im2col words). The ifmap SRAM holds a sliding-window line buffer: KH + stride input rows
// (a rolling buffer, so the whole SRAM, not a half), each row over the full width when that
// fits — every word is then fetched once, au — or over a strip of the width otherwise: the
// output is computed in column strips as wide as the buffer allows, and neighbouring strips
// both fetch the KW − stride input columns where their windows overlap. When not even a
// KW-wide strip fits, every window is fetched on its own: the im2col rows, mk.
func (m *model) sweepWords(l *Layer, g int, au, mk int64) int64 {
	if l.Kind != Conv {
		if int64(l.InC)*m.wb <= m.ifLine { // one input row
			return au
		}
		return mk
	}
	rows := int64(min(l.InH, or1(l.KH)+or1(l.StrideH)))
	perCol := rows * int64(l.InC/g) * m.wb // bytes of one input column of the band
	cols := m.ifLine / perCol              // input columns the buffer holds
	kw, sw := or1(l.KW), or1(l.StrideW)
	_, ow := l.OutDims()
	tw := geom.Touched(l.InW, kw, sw, l.PadW, ow)
	if cols >= int64(l.InW) || cols >= tw {
		return au
	}
	if cols < int64(kw) || tw == 0 {
		return mk
	}
	stripOut := (cols-int64(kw))/int64(sw) + 1 // output columns per strip
	strips := ceilDiv64(int64(ow), stripOut)
	halo := int64(max(0, kw-sw))
	return min(mk, au/tw*(tw+(strips-1)*halo))
}

// uniqueIfmapWords returns the ifmap words a Conv or GEMM layer actually touches (all groups,
// whole batch): rows and columns no window reaches (stride larger than the kernel) are not
// counted, nor is the padding, which is generated on chip.
func uniqueIfmapWords(l *Layer, batch int) int64 {
	if l.Kind != Conv {
		return int64(batch) * l.InElems()
	}
	oh, ow := l.OutDims()
	th := geom.Touched(l.InH, or1(l.KH), or1(l.StrideH), l.PadH, oh)
	tw := geom.Touched(l.InW, or1(l.KW), or1(l.StrideW), l.PadW, ow)
	return int64(batch) * th * tw * int64(l.InC)
}
