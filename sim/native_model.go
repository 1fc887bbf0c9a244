package sim

import (
	"fmt"
	"math"

	"github.com/vggsim/vggsim/hw"
)

// model holds the hardware constants the native engine derives once per simulation.
type model struct {
	cfg    *hw.Config
	opts   Options
	batch  int
	R, C   int
	wb, ab int64   // bytes per operand word, per partial sum
	ifHalf int64   // bytes: the active half of each double-buffered SRAM
	fHalf  int64   //
	oHalf  int64   //
	bwc    float64 // DRAM bytes per cycle; 0 means unlimited
	lanes  int64
}

func newModel(cfg *hw.Config, opts Options) *model {
	m := &model{cfg: cfg, opts: opts, batch: or1(opts.Batch), R: cfg.Rows, C: cfg.Cols,
		wb: int64(cfg.BytesPerWord()), ab: int64(cfg.AccBytesPerWord()),
		ifHalf: cfg.IfmapSRAMBytes / 2, fHalf: cfg.FilterSRAMBytes / 2, oHalf: cfg.OfmapSRAMBytes / 2,
		lanes: int64(opts.VectorLanes)}
	if m.lanes == 0 {
		m.lanes = int64(cfg.Cols)
	}
	if cfg.DRAMBandwidth > 0 {
		m.bwc = cfg.DRAMBandwidth / cfg.ClockHz
	}
	return m
}

func (m *model) layer(l *Layer) LayerResult {
	r := LayerResult{Name: l.Name, Kind: l.Kind.String(), InputOnChip: l.InputOnChip(0),
		OutputOnChip: l.OutputOnChip}
	if l.Kind.OnArray() {
		m.gemm(l, &r)
	} else {
		m.vector(l, &r)
	}
	r.SRAMReadBytes += r.SRAMIfmapReadBytes + r.SRAMFilterReadBytes + r.DRAMOfmapWriteBytes
	r.SRAMWriteBytes += r.SRAMOfmapWriteBytes + r.DRAMIfmapReadBytes + r.DRAMFilterReadBytes
	r.DRAMReadBytes = r.DRAMIfmapReadBytes + r.DRAMFilterReadBytes + r.DRAMPsumReadBytes
	r.DRAMWriteBytes = r.DRAMOfmapWriteBytes + r.DRAMPsumWriteBytes
	m.stalls(&r)
	pes := float64(m.R * m.C)
	if r.Cycles > 0 {
		r.Utilization = float64(r.MACs) / (float64(r.Cycles) * pes)
	}
	if r.StreamCycles > 0 {
		r.MappingEfficiency = float64(r.MACs) / (float64(r.StreamCycles) * pes)
	}
	e := m.cfg.Energy
	r.LatencyS = float64(r.Cycles) / m.cfg.ClockHz
	r.EnergyMACJ = float64(r.MACs+r.VectorOps) * e.MACpJ * 1e-12
	r.EnergySRAMJ = float64(r.SRAMReadBytes+r.SRAMWriteBytes+r.AccReadBytes+r.AccWriteBytes) * e.SRAMpJPerByte * 1e-12
	r.EnergyDRAMJ = float64(r.DRAMReadBytes+r.DRAMWriteBytes) * e.DRAMpJPerByte * 1e-12
	r.EnergyLeakageJ = e.LeakageW * r.LatencyS
	r.EnergyJ = r.EnergyMACJ + r.EnergySRAMJ + r.EnergyDRAMJ + r.EnergyLeakageJ
	return r
}

// stalls applies the per-tile DRAM roofline: the first fold's operands are loaded before it
// can start and the last fold's outputs drained after it ends; in between, transfers overlap
// computation fold by fold (double buffering), so the middle takes the larger of the two.
func (m *model) stalls(r *LayerResult) {
	r.Cycles = r.ComputeCycles
	if m.bwc <= 0 {
		return
	}
	d := r.DRAMReadBytes + r.DRAMWriteBytes
	cyc := func(bytes int64) int64 { return int64(math.Ceil(float64(bytes) / m.bwc)) }
	r.DRAMTransferCycles = cyc(d)
	first, last := cyc(r.FirstLoadBytes), cyc(r.LastDrainBytes)
	mid := cyc(d - r.FirstLoadBytes - r.LastDrainBytes)
	r.Cycles = first + max(r.ComputeCycles, mid) + last
	r.StallCycles = r.Cycles - r.ComputeCycles
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
	case Pool, GlobalPool:
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

// mapping is one point of a GEMM's mapspace: a loop order, the tile of the streamed
// dimension (ws, is) and whether partial sums spill to DRAM; with its DRAM words per group
// and its fold sequence.
type mapping struct {
	order          string
	st, stLast     int   // streamed tile and last tile (ws, is)
	nT             int64 // tiles
	spill          bool
	a, b           int64 // DRAM words per group: ifmap, filter
	segs           []segment
	cycles, stream int64
}

// run is n consecutive folds of equal shape: stream length T, rows ru and columns cu used.
type run struct {
	n         int64
	T, ru, cu int
}

// segment is a block of runs repeated rep times.
type segment struct {
	runs []run
	rep  int64
}

// gemm costs a Conv or GEMM layer.
func (m *model) gemm(l *Layer, r *LayerResult) {
	M, N, K, g := l.GEMMShape(m.batch)
	G := int64(g)
	R, C := m.R, m.C
	df := m.cfg.Dataflow
	r.M, r.N, r.K, r.Groups = int64(M), int64(N), int64(K), G
	r.MACs = l.MACs(m.batch)
	grid := MapGEMM(df, R, C, M, N, K)
	rF, cF := int64(grid.RowFolds), int64(grid.ColFolds)
	MK, KN, MN := int64(M)*int64(K), int64(K)*int64(N), int64(M)*int64(N)

	// Operand footprints per group, in words.
	au := uniqueIfmapWords(l, m.batch) / G
	band := au // the sliding-window band: KH+stride input rows of one image
	if l.Kind == Conv {
		rows := min(l.InH, or1(l.KH)+or1(l.StrideH))
		band = int64(rows) * int64(l.InW) * int64(l.InC/g)
	} else {
		band = int64(K)
	}
	inOn := l.InputOnChip(0)
	sweepA := MK // each sweep re-reads the im2col rows when the band does not fit
	if band*m.wb <= m.ifHalf || inOn {
		sweepA = au
	}
	fitsA := inOn || au*m.wb <= m.ifHalf
	fits := func(words int64, half int64) bool { return words*m.wb <= half }

	// The mapspace: loop order × tile of the streamed dimension (ws, is) × whether partial
	// sums spill. Each mapping's DRAM words follow from what fits in the active SRAM halves;
	// the cheapest in DRAM bytes wins (then the fewest cycles). Every option stays available
	// when a buffer grows, so more SRAM never costs more traffic.
	var cands []mapping
	cuL, ruL := grid.ColsLast, grid.RowsLast
	if df == hw.OutputStationary {
		fitsBlk := fits(int64(K)*int64(min(N, C)), m.fHalf)
		a1, b1 := sweepA*cF, KN*rF
		if fitsA {
			a1 = au
		}
		if fitsBlk {
			b1 = KN
		}
		cands = append(cands, mapping{order: "n-outer", a: a1, b: b1, segs: []segment{
			{[]run{{rF - 1, K, R, C}, {1, K, ruL, C}}, cF - 1},
			{[]run{{rF - 1, K, R, cuL}, {1, K, ruL, cuL}}, 1},
		}})
		a2, b2 := sweepA*cF, KN*rF
		if fitsA || fits(min(int64(min(M, R))*int64(K), au), m.ifHalf) {
			a2 = sweepA
		}
		if fits(KN, m.fHalf) {
			b2 = KN
		}
		cands = append(cands, mapping{order: "m-outer", a: a2, b: b2, segs: []segment{
			{[]run{{cF - 1, K, R, C}, {1, K, R, cuL}}, rF - 1},
			{[]run{{cF - 1, K, ruL, C}, {1, K, ruL, cuL}}, 1},
		}})
	} else {
		// ws: stationary filter blocks (K-block × N-block), M streamed in tiles;
		// is: stationary ifmap blocks (K-block × M-block), N streamed in tiles.
		// A tile of St rows needs St·C partial sums in the accumulator or in the ofmap SRAM's
		// active half, whichever is larger, while its K-blocks accumulate. With a single K-block
		// nothing accumulates and the tile is the whole dimension.
		S := grid.T
		stMax, spillOK := S, false
		if rF > 1 {
			accWords := max(m.cfg.AccumBytes, m.oHalf) / m.ab
			stMax = int(min(int64(S), accWords/int64(C)))
			spillOK = true
		}
		tiles := []int{}
		if stMax >= 1 {
			tiles = append(tiles, stMax)
			// The largest tile whose reused operand slice fits its SRAM half.
			half := m.ifHalf
			if df == hw.InputStationary {
				half = m.fHalf
			}
			if t := int(min(int64(stMax), half/(int64(K)*m.wb))); t >= 1 && t < stMax {
				tiles = append(tiles, t)
			}
		}
		for _, st := range tiles {
			cands = append(cands, m.stationaryMappings(df, grid, st, false, au, sweepA, fitsA, M, N, K)...)
		}
		if spillOK || len(tiles) == 0 {
			cands = append(cands, m.stationaryMappings(df, grid, S, true, au, sweepA, fitsA, M, N, K)...)
		}
	}
	psumSpill := MN * (rF - 1) * G * m.ab
	best := -1
	var bestBytes, bestCycles int64
	for i := range cands {
		c := &cands[i]
		c.cycles, c.stream = m.pipeline(c.segs, G, df != hw.OutputStationary)
		bytes := (c.a + c.b) * G * m.wb
		if inOn {
			bytes = c.b * G * m.wb
		}
		if c.spill {
			bytes += 2 * psumSpill
		}
		if best < 0 || bytes < bestBytes || (bytes == bestBytes && c.cycles < bestCycles) {
			best, bestBytes, bestCycles = i, bytes, c.cycles
		}
	}
	bm := cands[best]
	St, StL, nT, spill := bm.st, bm.stLast, bm.nT, bm.spill
	r.Order = bm.order
	if df != hw.OutputStationary {
		r.Order += fmt.Sprintf(" tile=%d", St)
		if spill {
			r.Order += " spill"
		}
	}
	r.Folds = grid.Folds() * G
	if df != hw.OutputStationary {
		r.Folds = rF * cF * nT * G
	}
	r.ComputeCycles, r.StreamCycles = bm.cycles, bm.stream
	r.PipelineOverheadCycles = r.ComputeCycles - r.StreamCycles

	// SRAM traffic (words → bytes), all groups.
	switch df {
	case hw.OutputStationary:
		r.SRAMIfmapReadBytes = MK * cF * G * m.wb
		r.SRAMFilterReadBytes = KN * rF * G * m.wb
	case hw.WeightStationary:
		r.SRAMIfmapReadBytes = MK * cF * G * m.wb
		r.SRAMFilterReadBytes = KN * nT * G * m.wb
	default:
		r.SRAMIfmapReadBytes = MK * nT * G * m.wb
		r.SRAMFilterReadBytes = KN * cF * G * m.wb
	}
	r.SRAMOfmapWriteBytes = MN * G * m.wb
	if df != hw.OutputStationary && rF > 1 {
		r.AccWriteBytes = MN * rF * G * m.ab
		r.AccReadBytes = MN * (rF - 1) * G * m.ab
		if spill {
			r.DRAMPsumWriteBytes = MN * (rF - 1) * G * m.ab
			r.DRAMPsumReadBytes = MN * (rF - 1) * G * m.ab
		}
	}
	bias := int64(0)
	if l.Bias {
		bias = int64(l.OutC)
	}
	if !inOn {
		r.DRAMIfmapReadBytes = bm.a * G * m.wb
	}
	r.DRAMFilterReadBytes = (bm.b*G + bias) * m.wb
	if !l.OutputOnChip {
		r.DRAMOfmapWriteBytes = MN * G * m.wb
	}
	r.SRAMFilterReadBytes += bias * m.wb
	r.UniqueIfmapBytes = au * G * m.wb
	r.UniqueFilterBytes = (KN*G + bias) * m.wb
	r.UniqueOfmapBytes = MN * G * m.wb

	// The first fold's operands and the last fold's outputs are exposed.
	var fa, fb, lo int64
	switch df {
	case hw.OutputStationary:
		fa, fb = int64(min(M, R))*int64(K), int64(K)*int64(min(N, C))
		lo = int64(ruL) * int64(cuL)
	case hw.WeightStationary:
		fb, fa = int64(min(K, R))*int64(min(N, C)), int64(St)*int64(min(K, R))
		lo = int64(StL) * int64(cuL)
	default:
		fa, fb = int64(min(K, R))*int64(min(M, C)), int64(min(K, R))*int64(St)
		lo = int64(StL) * int64(cuL)
	}
	r.FirstLoadBytes = min(fa*m.wb, r.DRAMIfmapReadBytes) + min(fb*m.wb, r.DRAMFilterReadBytes)
	r.LastDrainBytes = min(lo*m.wb, r.DRAMOfmapWriteBytes)
}

// stationaryMappings returns the two loop orders of a ws or is GEMM whose streamed dimension
// (M for ws, N for is) is cut into tiles of st (spill: st is the whole dimension and partial
// sums go to DRAM between K-blocks).
func (m *model) stationaryMappings(df hw.Dataflow, grid FoldGrid, st int, spill bool, au, sweepA int64, fitsA bool, M, N, K int) []mapping {
	R, C := m.R, m.C
	rF, cF := int64(grid.RowFolds), int64(grid.ColFolds)
	KN := int64(K) * int64(N)
	S := grid.T
	nT := ceilDiv64(int64(S), int64(st))
	stL := S - int(nT-1)*st
	cuL := grid.ColsLast
	fits := func(words int64, half int64) bool { return words*m.wb <= half }
	colOuter := []segment{ // column blocks outer, tiles middle, K-blocks inner
		{[]run{{rF * (nT - 1), st, R, C}, {rF, stL, R, C}}, cF - 1},
		{[]run{{rF * (nT - 1), st, R, cuL}, {rF, stL, R, cuL}}, 1},
	}
	tileOuter := []segment{ // tiles outer, column blocks middle, K-blocks inner
		{[]run{{rF * (cF - 1), st, R, C}, {rF, st, R, cuL}}, nT - 1},
		{[]run{{rF * (cF - 1), stL, R, C}, {rF, stL, R, cuL}}, 1},
	}
	base := mapping{st: st, stLast: stL, nT: nT, spill: spill}
	a1, b1, a2, b2 := sweepA*cF, KN*nT, sweepA*cF, KN*nT
	o1, o2 := "n-outer", "m-outer"
	if df == hw.WeightStationary {
		// Column blocks are filter blocks, reused across M tiles when they fit; the ifmap is
		// swept once per filter block unless it fits (n-outer), or an M tile's rows are
		// reused across filter blocks when they fit (m-outer).
		if fitsA {
			a1 = au
		}
		if fits(int64(K)*int64(min(N, C)), m.fHalf) {
			b1 = KN
		}
		if fitsA || fits(min(int64(st)*int64(K), au), m.ifHalf) {
			a2 = sweepA
		}
		if fits(KN, m.fHalf) {
			b2 = KN
		}
	} else {
		// Column blocks are pixel blocks of the stationary ifmap, loaded once per N tile
		// unless they fit (m-outer); the filter is swept once per pixel block unless it fits.
		// Or N tiles outer, each tile's filter slice reused across pixel blocks (n-outer).
		o1, o2 = "m-outer", "n-outer"
		a1, b1, a2, b2 = sweepA*nT, KN*cF, sweepA*nT, KN*cF
		if fitsA || fits(min(int64(min(M, C))*int64(K), au), m.ifHalf) {
			a1 = sweepA
		}
		if fits(KN, m.fHalf) {
			b1 = KN
		}
		if fitsA {
			a2 = au
		}
		if fits(int64(K)*int64(st), m.fHalf) {
			b2 = KN
		}
	}
	first, second := base, base
	first.order, first.a, first.b, first.segs = o1, a1, b1, colOuter
	second.order, second.a, second.b, second.segs = o2, a2, b2, tileOuter
	return []mapping{first, second}
}

// pipeline returns the compute cycles and the stream cycles (Σ fold stream lengths) of a
// fold sequence run groups times. Pipelined (docs/simulator.md): fold f+1 starts
// max(T, rows used) (os) or max(T, R) (ws, is) cycles after fold f; ws and is start the
// first fold after its block is shifted in (R cycles); the GEMM ends with the latest fold
// end, T+ru+cu−2 (os) or T+R+cu−2 (ws, is) after the fold's start. Serial (Options.Serial):
// every fold takes SCALE-Sim's per-fold count.
func (m *model) pipeline(segs []segment, groups int64, stationary bool) (cycles, stream int64) {
	R, C := int64(m.R), int64(m.C)
	var span, maxEnd int64
	for _, s := range segs {
		if s.rep <= 0 {
			continue
		}
		var bspan, bend, bstream int64 // one block: span, latest end (from its start), stream
		for _, r := range s.runs {
			if r.n <= 0 {
				continue
			}
			T := int64(r.T)
			var iv, off int64
			switch {
			case m.opts.Serial && stationary:
				iv = 2*R + C + T - 2
				off = iv
			case m.opts.Serial:
				iv = T + R + C - 2
				off = iv
			case stationary:
				iv = max(T, R)
				off = T + R + int64(r.cu) - 2
			default:
				iv = max(T, int64(r.ru))
				off = T + int64(r.ru) + int64(r.cu) - 2
			}
			bend = max(bend, bspan+(r.n-1)*iv+off)
			bspan += r.n * iv
			bstream += r.n * T
		}
		stream += s.rep * bstream
		maxEnd = max(maxEnd, span+(s.rep-1)*bspan+bend)
		span += s.rep * bspan
	}
	stream *= groups
	start := int64(0)
	if stationary && !m.opts.Serial {
		start = R
	}
	return start + (groups-1)*span + maxEnd, stream
}

// uniqueIfmapWords returns the ifmap words a Conv or GEMM layer actually touches (all groups,
// whole batch): rows and columns no window reaches (stride larger than the kernel) are not
// counted, nor is the padding, which is generated on chip.
func uniqueIfmapWords(l *Layer, batch int) int64 {
	if l.Kind != Conv {
		return int64(batch) * l.InElems()
	}
	oh, ow := l.OutDims()
	th := touched(l.InH, or1(l.KH), or1(l.StrideH), l.PadH, oh)
	tw := touched(l.InW, or1(l.KW), or1(l.StrideW), l.PadW, ow)
	return int64(batch) * th * tw * int64(l.InC)
}

// touched counts the input positions in [0, n) covered by o windows of size k, stride s,
// after p positions of padding.
func touched(n, k, s, p, o int) int64 {
	if o <= 0 {
		return 0
	}
	if k >= s { // windows overlap or abut: one contiguous range
		lo, hi := max(0, -p), min(n-1, (o-1)*s+k-1-p)
		return int64(max(0, hi-lo+1))
	}
	var c int64
	for oy := range o {
		lo, hi := max(0, oy*s-p), min(n-1, oy*s+k-1-p)
		c += int64(max(0, hi-lo+1))
	}
	return c
}
