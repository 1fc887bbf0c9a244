package sim

import "github.com/vggsim/vggsim/hw"

// FoldGrid is a GEMM (M×K times K×N) mapped onto an R×C array for one dataflow
// (design.md §4): Sr operand rows across the array rows, Sc across the columns, T streamed.
//
//	dataflow  rows ← Sr   cols ← Sc   streamed T
//	os        M           N           K
//	ws        K           N           M
//	is        K           M           N
//
// Folds run column folds outer, row folds inner, as in SCALE-Sim.
type FoldGrid struct {
	Dataflow           hw.Dataflow
	R, C               int
	Sr, Sc, T          int
	RowFolds, ColFolds int
	RowsLast, ColsLast int // rows and columns used by the last row / column fold
}

// MapGEMM maps an M×N×K GEMM onto an R×C array.
func MapGEMM(df hw.Dataflow, R, C, M, N, K int) FoldGrid {
	g := FoldGrid{Dataflow: df, R: R, C: C}
	switch df {
	case hw.OutputStationary:
		g.Sr, g.Sc, g.T = M, N, K
	case hw.WeightStationary:
		g.Sr, g.Sc, g.T = K, N, M
	default:
		g.Sr, g.Sc, g.T = K, M, N
	}
	g.RowFolds = (g.Sr + R - 1) / R
	g.ColFolds = (g.Sc + C - 1) / C
	g.RowsLast = g.Sr - (g.RowFolds-1)*R
	g.ColsLast = g.Sc - (g.ColFolds-1)*C
	return g
}

// Folds returns the number of folds.
func (g FoldGrid) Folds() int64 { return int64(g.RowFolds) * int64(g.ColFolds) }

// ScaleSimFoldCycles returns SCALE-Sim's cycles per fold: T+R+C−2 for os, 2R+C+T−2 for ws
// and is (the stationary block is shifted in over R cycles first). Every fold, partial or
// not, pays the whole array's skew.
func (g FoldGrid) ScaleSimFoldCycles() int64 {
	return scaleSimFoldCycles(g.Dataflow != hw.OutputStationary, g.R, g.C, g.T)
}

// scaleSimFoldCycles returns SCALE-Sim's cycles for one fold of stream length t on an r×c
// array: t+r+c−2 for os, 2r+c+t−2 for the stationary dataflows ws and is.
func scaleSimFoldCycles(stationary bool, r, c, t int) int64 {
	if stationary {
		return 2*int64(r) + int64(c) + int64(t) - 2
	}
	return int64(t) + int64(r) + int64(c) - 2
}

// ScaleSimCycles returns the layer cycles SCALE-Sim reports: folds·per_fold − 1 (the −1 is
// SCALE-Sim's reporting quirk: it prints the index of the last cycle).
func (g FoldGrid) ScaleSimCycles() int64 { return g.Folds()*g.ScaleSimFoldCycles() - 1 }

// UsedRows returns the array rows fold f uses (f in SCALE-Sim order).
func (g FoldGrid) UsedRows(f int64) int {
	if int(f%int64(g.RowFolds)) == g.RowFolds-1 {
		return g.RowsLast
	}
	return g.R
}

// UsedCols returns the array columns fold f uses.
func (g FoldGrid) UsedCols(f int64) int {
	if int(f/int64(g.RowFolds)) == g.ColFolds-1 {
		return g.ColsLast
	}
	return g.C
}

// Interval returns the cycles between the starts of fold f and fold f+1 when folds are
// pipelined: os max(T, rows used by f) (a fold's results leave on each column's output bus,
// one per cycle, while the next fold computes); ws/is max(T, R) (the next stationary block
// is shifted into the shadow registers, R cycles, while the current fold streams).
func (g FoldGrid) Interval(f int64) int64 {
	if g.Dataflow == hw.OutputStationary {
		return int64(max(g.T, g.UsedRows(f)))
	}
	return int64(max(g.T, g.R))
}

// FoldStart returns the pipelined start cycle of fold f: the cycle its first stream element
// enters PE(0,0). ws/is start the first fold at R, after the first block is shifted in.
func (g FoldGrid) FoldStart(f int64) int64 {
	if g.Dataflow != hw.OutputStationary {
		return int64(g.R) + f*int64(max(g.T, g.R))
	}
	full := int64(max(g.T, g.R))
	last := int64(max(g.T, g.RowsLast))
	nLast := f / int64(g.RowFolds) // last-row folds among folds 0..f-1
	return f*full + nLast*(last-full)
}

// foldEnd returns the cycle after fold f's last output is written, pipelined.
func (g FoldGrid) foldEnd(f int64) int64 {
	t := g.FoldStart(f)
	if g.Dataflow == hw.OutputStationary {
		// PE(i, j) writes its result in the cycle of its last MAC, t+T−1+i+j.
		return t + int64(g.T+g.UsedRows(f)+g.UsedCols(f)) - 2
	}
	// The partial sum of column j leaves the bottom row at t+x+R−1+j.
	return t + int64(g.T+g.R+g.UsedCols(f)) - 2
}

// PipelinedCycles returns the cycles of the whole GEMM with folds pipelined (the native
// engine's compute time): the latest fold end. Within a class of folds of equal shape the
// ends grow with the fold index, so only the last fold of each class is examined.
func (g FoldGrid) PipelinedCycles() int64 {
	F := g.Folds()
	rF := int64(g.RowFolds)
	cands := []int64{F - 1, F - 2, (int64(g.ColFolds)-1)*rF - 1, (int64(g.ColFolds)-1)*rF - 2}
	var end int64
	for _, f := range cands {
		if f >= 0 && f < F {
			end = max(end, g.foldEnd(f))
		}
	}
	return end
}

// FillDrainCycles returns the pipelined cycles not spent streaming: PipelinedCycles minus
// the sum of the fold intervals' stream parts (folds·T).
func (g FoldGrid) FillDrainCycles() int64 { return g.PipelinedCycles() - g.Folds()*int64(g.T) }
