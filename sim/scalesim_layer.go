package sim

import "github.com/vggsim/vggsim/hw"

// ssLayer holds one layer's SCALE-Sim geometry: the GEMM view, the fold grid and the tables
// that give the im2col ifmap address of (output pixel m, window position k) without building
// the M×K operand matrix.
type ssLayer struct {
	df                 hw.Dataflow
	R, C               int
	M, N, K            int
	Sr, Sc, T          int
	rowFolds, colFolds int
	L                  int64 // demand rows per fold

	// ifmap address of (m, k) = mBase[m] + kOff[k], or none (-1) when the window position
	// falls outside the ifmap: kRow[k] >= mRowLim[m] or kCol[k] >= mColLim[m].
	mBase, mRowLim, mColLim []int32
	kOff, kRow, kCol        []int32
	ifmapWords              int
}

func newSSLayer(cfg *ScaleSimConfig, l *ScaleSimLayer) *ssLayer {
	s := &ssLayer{df: cfg.Dataflow, R: cfg.ArrayHeight, C: cfg.ArrayWidth}
	_, ew := l.OfmapDims()
	s.M, s.N, s.K = l.GEMM()
	g := MapGEMM(s.df, s.R, s.C, s.M, s.N, s.K)
	s.Sr, s.Sc, s.T = g.Sr, g.Sc, g.T
	s.rowFolds, s.colFolds = g.RowFolds, g.ColFolds
	s.L = g.ScaleSimFoldCycles()

	H, W, ch := l.IfmapH, l.IfmapW, l.Channels
	s.ifmapWords = H * W * ch
	s.mBase = make([]int32, s.M)
	s.mRowLim = make([]int32, s.M)
	s.mColLim = make([]int32, s.M)
	for m := range s.M {
		iy, ix := (m/ew)*l.StrideH, (m%ew)*l.StrideW
		s.mBase[m] = int32(iy*W*ch + ix*ch)
		s.mRowLim[m] = int32(H - iy)
		s.mColLim[m] = int32(W - ix)
	}
	s.kOff = make([]int32, s.K)
	s.kRow = make([]int32, s.K)
	s.kCol = make([]int32, s.K)
	for k := range s.K {
		fy := k / (l.FilterW * ch)
		r := k % (l.FilterW * ch)
		fx, c := r/ch, r%ch
		s.kOff[k] = int32(fy*W*ch + fx*ch + c)
		s.kRow[k] = int32(fy)
		s.kCol[k] = int32(fx)
	}
	return s
}

// ifAddr returns the ifmap word address of im2col element (m, k), or -1 when it lies in the
// region SCALE-Sim treats as padding (beyond the bottom or right edge).
func (s *ssLayer) ifAddr(m, k int) int32 {
	if s.kRow[k] >= s.mRowLim[m] || s.kCol[k] >= s.mColLim[m] {
		return -1
	}
	return s.mBase[m] + s.kOff[k]
}

// fold returns the used rows and columns of fold (fc, fr).
func (s *ssLayer) fold(fc, fr int) (ru, cu int) {
	return min(s.R, s.Sr-fr*s.R), min(s.C, s.Sc-fc*s.C)
}

// stallClock maps a demand-row index to its cycle: the index plus the stall cycles incurred
// by earlier rows. Rows must be queried in non-decreasing order.
type stallClock struct {
	ev  []stallEvent
	i   int
	cur int64
}

type stallEvent struct {
	row int64 // first row shifted by cum
	cum int64
}

func (c *stallClock) at(row int64) int64 {
	for c.i < len(c.ev) && c.ev[c.i].row <= row {
		c.cur = c.ev[c.i].cum
		c.i++
	}
	return row + c.cur
}

// ofmapStream returns, for the ofmap demand of one fold, the leading null rows, the valid
// block rows [lo, hi) and the used columns. Every dataflow skews its ofmap demand.
func (s *ssLayer) ofmapStream(ru, cu int) (pre, lo, hi, cols int) {
	switch s.df {
	case hw.OutputStationary:
		// T-1 null rows, then the R×C block flipped upside down: unused rows come first.
		return s.T - 1, s.R - ru, s.R, cu
	default:
		// 2R-1 null rows, then T rows of outputs.
		return 2*s.R - 1, 0, s.T, cu
	}
}

// ssScratch is one worker's reusable memory.
type ssScratch struct{ ifmap, filter ssStamps }

func simulateScaleSimLayer(cfg *ScaleSimConfig, id int, l *ScaleSimLayer, scr *ssScratch) ScaleSimReport {
	return simulateScaleSimLayerTraced(cfg, id, l, scr, nil)
}

// simulateScaleSimLayerTraced simulates one layer; in USER mode it also appends every demand
// row's served cycles to cycles when cycles is not nil.
func simulateScaleSimLayerTraced(cfg *ScaleSimConfig, id int, l *ScaleSimLayer, scr *ssScratch, cycles *[]ssRowCycles) ScaleSimReport {
	s := newSSLayer(cfg, l)
	R, C := s.R, s.C
	folds := int64(s.rowFolds) * int64(s.colFolds)
	rep := ScaleSimReport{LayerID: id, Name: l.Name, M: int64(s.M), N: int64(s.N), K: int64(s.K),
		Folds: folds}
	rep.MACs = rep.M * rep.N * rep.K

	// Per-fold averages, summed in SCALE-Sim's order (column folds outer, row folds inner) the
	// way Python's sum() adds floats.
	var mapSum, utilSum pySum
	cyclesFold := s.L // os: T+R+C-2
	if s.df != hw.OutputStationary {
		cyclesFold = s.L + int64(C) - 1 // 2R+2C+T-3
	}
	for fc := range s.colFolds {
		for fr := range s.rowFolds {
			ru, cu := s.fold(fc, fr)
			used := int64(ru * cu)
			mapSum.add(float64(used) / float64(R*C))
			utilSum.add(float64(used*int64(s.T)) / float64(int64(R*C)*cyclesFold))
		}
	}
	rep.MappingEfficiencyPct = mapSum.value() / float64(folds) * 100
	rep.ComputeUtilPct = utilSum.value() / float64(folds) * 100

	// SRAM counts (SCALE-Sim counts the operand-matrix slices, padding positions included).
	M, N, K := rep.M, rep.N, rep.K
	var ifR, fiR, ofW int64
	switch s.df {
	case hw.OutputStationary:
		ifR = M * K * int64(s.colFolds)
		fiR = K * N * int64(s.rowFolds)
		ofW = M*N + folds*int64(R+C)
	case hw.WeightStationary:
		ifR = M * K * int64(s.colFolds)
		fiR = K * N
		ofW = M * N * int64(s.rowFolds)
	default:
		ifR = M * K
		fiR = N * K * int64(s.colFolds)
		ofW = M * N * int64(s.rowFolds)
	}

	if cfg.user() {
		s.simulateUser(cfg, &rep, cycles)
	} else {
		s.simulateCalc(cfg, &rep, scr)
	}
	rep.IfmapSRAM.Count, rep.FilterSRAM.Count, rep.OfmapSRAM.Count = ifR, fiR, ofW

	rep.OverallUtilPct = float64(rep.MACs*100) / float64(rep.TotalCycles*int64(R*C))
	tc := float64(rep.TotalCycles)
	rep.AvgIfmapSRAMBW = float64(ifR) / tc
	rep.AvgFilterSRAMBW = float64(fiR) / tc
	rep.AvgOfmapSRAMBW = float64(ofW) / tc
	rep.AvgIfmapDRAMBW = dramBW(rep.IfmapDRAM)
	rep.AvgFilterDRAMBW = dramBW(rep.FilterDRAM)
	rep.AvgOfmapDRAMBW = dramBW(rep.OfmapDRAM)
	if rep.TotalCycles == 0 { // SCALE-Sim divides by zero here; report 0 instead
		rep.OverallUtilPct, rep.AvgIfmapSRAMBW, rep.AvgFilterSRAMBW, rep.AvgOfmapSRAMBW = 0, 0, 0, 0
	}
	return rep
}

// simulateCalc runs the memory system of CALC mode: the ofmap write buffer (the only source
// of stalls, which shift later rows) first, then the read buffers on the shifted demand.
func (s *ssLayer) simulateCalc(cfg *ScaleSimConfig, rep *ScaleSimReport, scr *ssScratch) {
	folds := int64(s.rowFolds) * int64(s.colFolds)
	wb := newSSWriteBuf(cfg.OfmapSRAMkB, s.C)
	stall, clock := s.calcWrites(wb, nil)
	lastRow := folds*s.L - 1
	rep.TotalCycles = lastRow + stall
	rep.StallCycles = stall
	wb.finish(rep.TotalCycles)
	rep.OfmapSRAM = ScaleSimAccess{StartCycle: wb.firstOut, StopCycle: wb.lastOut}
	rep.OfmapDRAM = wb.dram()

	ifb := newSSReadBuf(cfg.IfmapSRAMkB, s.ifmapWords, &scr.ifmap)
	fib := newSSReadBuf(cfg.FilterSRAMkB, s.K*s.N, &scr.filter)
	defer ifb.release(&scr.ifmap)
	defer fib.release(&scr.filter)
	clockF := stallClock{ev: clock.ev}
	s.ifmapDemand(ifb, &clock)
	s.filterDemand(fib, &clockF)
	rep.IfmapSRAM = ifb.sram(0)
	rep.FilterSRAM = fib.sram(0)
	rep.IfmapDRAM = ifb.dram()
	rep.FilterDRAM = fib.dram()
}

// calcWrites feeds CALC mode's ofmap demand rows to wb, row i at cycle i plus the stalls
// before it, and returns the stalls and the stall clock of the later rows. With cycles not
// nil it also appends every demand row's served cycles (reads one cycle after the demand,
// writes when the buffer takes them); otherwise it visits only the rows that write.
func (s *ssLayer) calcWrites(wb *ssWriteBuf, cycles *[]ssRowCycles) (stall int64, clock stallClock) {
	for fc := range s.colFolds {
		for fr := range s.rowFolds {
			ru, cu := s.fold(fc, fr)
			pre, lo, hi, cols := s.ofmapStream(ru, cu)
			base := (int64(fc)*int64(s.rowFolds) + int64(fr)) * s.L
			first, last := pre+lo, pre+hi-1+cols-1
			if cycles != nil {
				first, last = 0, int(s.L)-1
			}
			for r := first; r <= last; r++ {
				i := base + int64(r)
				cyc := i + stall
				out := cyc
				if n := min(cols-1, r-pre-lo) - max(0, r-pre-hi+1) + 1; n > 0 {
					out = wb.serviceRow(cyc, int64(n))
				}
				if out > cyc {
					stall += out - cyc
					clock.ev = append(clock.ev, stallEvent{row: i + 1, cum: stall})
				}
				if cycles != nil {
					*cycles = append(*cycles, ssRowCycles{cyc + 1, cyc + 1, out})
				}
			}
		}
	}
	return stall, clock
}

func dramBW(a ScaleSimAccess) float64 {
	return float64(a.Count) / float64(a.StopCycle-a.StartCycle+1)
}

// ssDiag is the non-null part of one demand row: columns lo … hi (none when lo > hi), column c
// holding the operand element (i0 + di·c, k0 + dk·c): for the ifmap (output pixel m, window
// position k), for the filter (filter n, window position k, at word n·K + k).
type ssDiag struct{ lo, hi, i0, di, k0, dk int }

// ifmapDiag returns the ifmap elements of demand row r of fold (fc, fr), ru rows and cu columns
// used. os: the skewed T×R block, column c pixel fr·R+c delayed by c rows, row t window t. ws:
// R null rows, then the skewed M×R block, row t pixel t, column c window fr·R+c. is: the R×C
// block of ifmapᵀ, flipped, not skewed: row p window fr·R+R−1−p, column c pixel fc·C+c.
func (s *ssLayer) ifmapDiag(fc, fr, r, ru, cu int) ssDiag {
	R := s.R
	switch s.df {
	case hw.OutputStationary:
		return ssDiag{max(0, r-s.T+1), min(ru-1, r), fr * R, 1, r, -1}
	case hw.WeightStationary:
		return ssDiag{max(0, r-R-s.T+1), min(ru-1, r-R), r - R, -1, fr * R, 1}
	}
	if r < R-ru || r >= R {
		return ssDiag{lo: 0, hi: -1}
	}
	return ssDiag{0, cu - 1, fc * s.C, 1, fr*R + R - 1 - r, 0}
}

// filterDiag returns the filter elements of demand row r of fold (fc, fr). os: the skewed K×C
// block, column c filter fc·C+c, row t window t. ws: the R×C weight block, flipped, not
// skewed: row p window fr·R+R−1−p, column c filter fc·C+c. is: R null rows, then the skewed
// N×R block of filterᵀ, row t filter t, column c window fr·R+c.
func (s *ssLayer) filterDiag(fc, fr, r, ru, cu int) ssDiag {
	R := s.R
	switch s.df {
	case hw.OutputStationary:
		return ssDiag{max(0, r-s.T+1), min(cu-1, r), fc * s.C, 1, r, -1}
	case hw.WeightStationary:
		if r < R-ru || r >= R {
			return ssDiag{lo: 0, hi: -1}
		}
		return ssDiag{0, cu - 1, fc * s.C, 1, fr*R + R - 1 - r, 0}
	}
	return ssDiag{max(0, r-R-s.T+1), min(ru-1, r-R), r - R, -1, fr * R, 1}
}

// ifmapDemand feeds the ifmap demand matrix, row by row and left to right, to b: the rows of
// ifmapDiag, with the dataflow's geometry unrolled here because this is the hot loop of CALC
// mode. TestWriteTraces and TestDRAMTraces (package scalesim) check the two agree: the
// reported SRAM and DRAM start and stop cycles and DRAM read counts, which come from these
// loops, against the SRAM traces, which come from ifmapDiag and filterDiag.
func (s *ssLayer) ifmapDemand(b *ssReadBuf, clock *stallClock) {
	R := s.R
	for fc := range s.colFolds {
		for fr := range s.rowFolds {
			ru, cu := s.fold(fc, fr)
			base := (int64(fc)*int64(s.rowFolds) + int64(fr)) * s.L
			switch s.df {
			case hw.OutputStationary:
				// Skewed T×R block: column c (pixel m0+c) delayed by c rows; row t is window k=t.
				m0, T := fr*R, s.T
				for r := 0; r <= T+ru-2; r++ {
					cyc := clock.at(base + int64(r))
					any := false
					for c := max(0, r-T+1); c <= min(ru-1, r); c++ {
						if a := s.ifAddr(m0+c, r-c); a >= 0 {
							any = true
							b.access(a, cyc)
						}
					}
					if any {
						b.row(cyc)
					}
				}
			case hw.WeightStationary:
				// R null rows, then the skewed M×R block: row t is pixel t, column c is k0+c.
				k0, T := fr*R, s.T
				for r := R; r <= R+T-1+ru-1; r++ {
					cyc := clock.at(base + int64(r))
					any := false
					for c := max(0, r-R-T+1); c <= min(ru-1, r-R); c++ {
						if a := s.ifAddr(r-R-c, k0+c); a >= 0 {
							any = true
							b.access(a, cyc)
						}
					}
					if any {
						b.row(cyc)
					}
				}
			default:
				// The R×C block of ifmap^T, flipped, not skewed: row p holds k0+R-1-p.
				k0, m0 := fr*R, fc*s.C
				for p := R - ru; p < R; p++ {
					cyc := clock.at(base + int64(p))
					k := k0 + R - 1 - p
					any := false
					for c := range cu {
						if a := s.ifAddr(m0+c, k); a >= 0 {
							any = true
							b.access(a, cyc)
						}
					}
					if any {
						b.row(cyc)
					}
				}
			}
		}
	}
}

// filterDemand feeds the filter demand matrix to b, the rows of filterDiag unrolled like
// ifmapDemand's. Filter word (k, n) is at n·K + k.
func (s *ssLayer) filterDemand(b *ssReadBuf, clock *stallClock) {
	R, K := s.R, s.K
	for fc := range s.colFolds {
		for fr := range s.rowFolds {
			ru, cu := s.fold(fc, fr)
			base := (int64(fc)*int64(s.rowFolds) + int64(fr)) * s.L
			switch s.df {
			case hw.OutputStationary:
				// Skewed K×C block: column c is filter n0+c, row t is k=t.
				n0, T := fc*s.C, s.T
				for r := 0; r <= T+cu-2; r++ {
					cyc := clock.at(base + int64(r))
					lo, hi := max(0, r-T+1), min(cu-1, r)
					for c := lo; c <= hi; c++ {
						b.access(int32((n0+c)*K+r-c), cyc)
					}
					if lo <= hi {
						b.row(cyc)
					}
				}
			case hw.WeightStationary:
				// The R×C weight block, flipped, not skewed: row p holds k0+R-1-p.
				k0, n0 := fr*R, fc*s.C
				for p := R - ru; p < R; p++ {
					cyc := clock.at(base + int64(p))
					k := k0 + R - 1 - p
					for c := range cu {
						b.access(int32((n0+c)*K+k), cyc)
					}
					if cu > 0 {
						b.row(cyc)
					}
				}
			default:
				// R null rows, then the skewed N×R block of filter^T: row t is filter n=t,
				// column c is k0+c.
				k0, T := fr*R, s.T
				for r := R; r <= R+T-1+ru-1; r++ {
					cyc := clock.at(base + int64(r))
					lo, hi := max(0, r-R-T+1), min(ru-1, r-R)
					for c := lo; c <= hi; c++ {
						b.access(int32((r-R-c)*K+k0+c), cyc)
					}
					if lo <= hi {
						b.row(cyc)
					}
				}
			}
		}
	}
}

// pySum adds float64 values left to right, as CPython's built-in sum() did before 3.12. The
// reference runs were produced that way: the compensated sum() of CPython 3.12+ differs in the
// last digits of Compute Util % (docs/simulator.md).
type pySum struct{ s float64 }

func (p *pySum) add(x float64) { p.s += x }

func (p *pySum) value() float64 { return p.s }
