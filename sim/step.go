package sim

import (
	"errors"
	"fmt"

	"github.com/vggsim/vggsim/hw"
)

// StepMode selects the fold schedule of the cycle-stepped engine.
type StepMode int

const (
	// StepSerial is SCALE-Sim's convention: a fold starts only when the previous fold's
	// wavefront (its T stream slots, skewed across the whole R×C array, unused rows and
	// columns carrying bubbles) has left the array; ws and is then shift the next stationary
	// block in over R cycles. Each fold lasts exactly SCALE-Sim's per-fold cycle count, so
	// Cycles = folds·per_fold, and SCALE-Sim reports Cycles − 1.
	StepSerial StepMode = iota
	// StepPipelined is the native engine's convention: every fold starts at the earliest
	// cycle at which none of its resources (input ports, output ports, the os column output
	// bus, the shadow registers that double-buffer the stationary operand) is still held by
	// an earlier fold. Cycles ends with the last output written.
	StepPipelined
)

// String returns "serial" or "pipelined".
func (m StepMode) String() string {
	if m == StepSerial {
		return "serial"
	}
	return "pipelined"
}

// StepResult is what the cycle-stepped engine observed.
type StepResult struct {
	Cycles     int64     // cycles until the layer is done (see StepMode)
	MACs       int64     // multiply-accumulates on real operands
	FoldStarts []int64   // cycle the first stream element of each fold enters PE(0,0)
	Out        []float64 // the M×N product, row-major
}

// StepGEMM multiplies the M×K matrix a by the K×N matrix b on a rows×cols systolic array,
// one cycle and one processing element at a time, and returns the cycle count, the MACs
// performed and the product. Operands really move: in os the ifmap enters each row from the
// left and the filter each column from the top, skewed by one cycle per row/column, and every
// PE accumulates its own output, which leaves on its column's output bus in the cycle of its
// last MAC; in ws (is) the filter (ifmap) block travels down a transit chain, is latched into
// shadow registers, and is switched into the PEs by the first partial sum of its fold, while
// the streamed operand moves right and partial sums move down and leave at the bottom edge.
// Every value carries a tag (fold, stream index); a PE that sees misaligned operands, a port
// asked to take two values in one cycle or a stationary value clobbered before use is an
// error. StepGEMM is for small shapes: it costs O(cycles·rows·cols) time and builds a
// reservation table of O(folds·(rows+cols)·(T+rows)) entries.
func StepGEMM(df hw.Dataflow, rows, cols, M, N, K int, a, b []float64, mode StepMode) (*StepResult, error) {
	if err := checkStepArgs(df, rows, cols, M, N, K, a, b); err != nil {
		return nil, err
	}
	g := MapGEMM(df, rows, cols, M, N, K)
	var folds []StepFold
	for fc := range g.ColFolds {
		for fr := range g.RowFolds {
			folds = append(folds, StepFold{Row0: fr * rows, Rows: min(rows, g.Sr-fr*rows),
				Col0: fc * cols, Cols: min(cols, g.Sc-fc*cols), X0: 0, T: g.T})
		}
	}
	return StepSchedule(df, rows, cols, M, N, K, a, b, folds, mode)
}

// StepFold is one fold of an explicit schedule, in the fold grid's coordinates (FoldGrid):
// operand rows [Row0, Row0+Rows) on the array rows, [Col0, Col0+Cols) on the columns, and the
// stream elements [X0, X0+T). For os the stream is K, so a schedule may cut K into chunks
// (each fold then adds its partial sums to the output); for ws and is the rows are K and the
// stream is M (ws) or N (is), so a schedule may cut the stream into tiles.
//
// A fold with Pieces (ws and is only, see StepScheduleGrouped) instead places several blocks
// side by side: each piece's operand rows, columns and stream elements at its own array
// offset, all streaming T elements together. Its Row0, Rows, Col0, Cols and X0 are unused.
type StepFold struct {
	Row0, Rows int
	Col0, Cols int
	X0, T      int
	Pieces     []StepPiece
}

// StepPiece is one block of a fold that packs several: operand rows [Row0, Row0+Rows) on
// array rows [ArrRow, ArrRow+Rows), operand columns [Col0, Col0+Cols) on array columns
// [ArrCol, ArrCol+Cols), stream elements [X0, X0+T) of the fold's T. A stationary value sits
// in PE(i, j) only when row i and column j belong to the same piece; every other PE holds a
// zero (the block-diagonal weights of packed groups).
type StepPiece struct {
	Row0, Rows, Col0, Cols, X0 int
	ArrRow, ArrCol             int
}

// StepSchedule is StepGEMM for an explicit fold sequence: the folds run in the given order,
// each placed by the same controller (serial or pipelined), and every fold's products are
// added to the output. It checks that the folds cover every (row, column, stream) element of
// the GEMM exactly once.
func StepSchedule(df hw.Dataflow, rows, cols, M, N, K int, a, b []float64, folds []StepFold, mode StepMode) (*StepResult, error) {
	return stepSchedule(df, rows, cols, M, N, K, 1, a, b, folds, mode)
}

// StepScheduleGrouped runs a grouped GEMM — groups independent M×K by K×N products, as a
// grouped convolution lowers to — on the array: a is the M×(groups·K) ifmap (group g's
// columns g·K … g·K+K−1), b the (groups·K)×(groups·N) block-diagonal filter (group g's
// block at rows g·K, columns g·N; the rest is never read) and Out the M×(groups·N) result.
// Folds address this big GEMM's fold grid and may pack several groups side by side with
// Pieces. It checks that every element of every group's GEMM is covered exactly once and that
// no fold pairs one group's rows with another group's stream or columns.
func StepScheduleGrouped(df hw.Dataflow, rows, cols, M, N, K, groups int, a, b []float64, folds []StepFold, mode StepMode) (*StepResult, error) {
	if groups < 1 {
		return nil, errors.New("step: groups must be at least 1")
	}
	return stepSchedule(df, rows, cols, M, N*groups, K*groups, groups, a, b, folds, mode)
}

func stepSchedule(df hw.Dataflow, rows, cols, M, N, K, groups int, a, b []float64, folds []StepFold, mode StepMode) (*StepResult, error) {
	if err := checkStepArgs(df, rows, cols, M, N, K, a, b); err != nil {
		return nil, err
	}
	g := MapGEMM(df, rows, cols, M, N, K)
	s := &stepper{df: df, R: rows, C: cols, M: M, N: N, K: K, Sr: g.Sr, Sc: g.Sc, T: g.T, a: a, b: b, mode: mode}
	if len(folds) == 0 {
		return nil, errors.New("step: no folds")
	}
	// group returns the group of grid element (r, c, x); -1 when it lies off the diagonal
	// blocks (its operands belong to different groups).
	gk, gn := K/groups, N/groups
	group := func(r, c, x int) int {
		var u, v int
		switch df {
		case hw.OutputStationary: // rows M, columns N, stream K
			u, v = c/gn, x/gk
		case hw.WeightStationary: // rows K, columns N, stream M
			u, v = r/gk, c/gn
		default: // is: rows K, columns M, stream N
			u, v = r/gk, x/gn
		}
		if u != v {
			return -1
		}
		return u
	}
	cover := make([]int8, s.Sr*s.Sc*s.T)
	for i, f := range folds {
		sf := stepFold{StepFold: f, rowPiece: make([]int, rows), colPiece: make([]int, cols)}
		ps := f.Pieces
		if ps == nil {
			ps = []StepPiece{{Row0: f.Row0, Rows: f.Rows, Col0: f.Col0, Cols: f.Cols, X0: f.X0}}
		} else if df == hw.OutputStationary {
			return nil, fmt.Errorf("step: fold %d: pieces need a stationary dataflow (ws or is)", i)
		}
		sf.pieces = ps
		for j := range sf.rowPiece {
			sf.rowPiece[j] = -1
		}
		for j := range sf.colPiece {
			sf.colPiece[j] = -1
		}
		for pi, p := range ps {
			if p.Rows < 1 || p.Cols < 1 || f.T < 1 || p.Row0 < 0 || p.Col0 < 0 || p.X0 < 0 || p.ArrRow < 0 || p.ArrCol < 0 ||
				p.ArrRow+p.Rows > rows || p.ArrCol+p.Cols > cols ||
				p.Row0+p.Rows > s.Sr || p.Col0+p.Cols > s.Sc || p.X0+f.T > s.T {
				return nil, fmt.Errorf("step: fold %d piece %d %+v (T %d) does not fit the %dx%d array and the %dx%dx%d fold grid", i, pi, p, f.T, rows, cols, s.Sr, s.Sc, s.T)
			}
			for r := range p.Rows {
				if sf.rowPiece[p.ArrRow+r] >= 0 {
					return nil, fmt.Errorf("step: fold %d: array row %d holds two pieces", i, p.ArrRow+r)
				}
				sf.rowPiece[p.ArrRow+r] = pi
			}
			for c := range p.Cols {
				if sf.colPiece[p.ArrCol+c] >= 0 {
					return nil, fmt.Errorf("step: fold %d: array column %d holds two pieces", i, p.ArrCol+c)
				}
				sf.colPiece[p.ArrCol+c] = pi
			}
			for r := p.Row0; r < p.Row0+p.Rows; r++ {
				for c := p.Col0; c < p.Col0+p.Cols; c++ {
					for x := p.X0; x < p.X0+f.T; x++ {
						if group(r, c, x) < 0 {
							return nil, fmt.Errorf("step: fold %d piece %d pairs operands of different groups at (%d, %d, %d)", i, pi, r, c, x)
						}
						cover[(r*s.Sc+c)*s.T+x]++
					}
				}
			}
		}
		s.folds = append(s.folds, sf)
	}
	for i, n := range cover {
		r, c, x := i/s.T/s.Sc, i/s.T%s.Sc, i%s.T
		if want := int8(1); group(r, c, x) < 0 && n != 0 || group(r, c, x) >= 0 && n != want {
			return nil, fmt.Errorf("step: element (%d, %d, %d) is covered %d times", r, c, x, n)
		}
	}
	s.plan()
	return s.run()
}

// checkStepArgs reports the first problem with the arguments of StepGEMM and StepSchedule.
func checkStepArgs(df hw.Dataflow, rows, cols, M, N, K int, a, b []float64) error {
	if rows < 1 || cols < 1 || M < 1 || N < 1 || K < 1 {
		return errors.New("step: all dimensions must be at least 1")
	}
	if len(a) != M*K || len(b) != K*N {
		return fmt.Errorf("step: want a of %d and b of %d values, got %d and %d", M*K, K*N, len(a), len(b))
	}
	if !df.Valid() {
		return fmt.Errorf("step: unknown dataflow %q", df)
	}
	return nil
}

type stepFold struct {
	StepFold
	t                  int64 // stream start: element x enters row i at t+i+x
	pieces             []StepPiece
	rowPiece, colPiece []int // the piece of each array row and column, or -1
}

// rowAt returns the operand row on array row i and its piece's stream offset.
func (f *stepFold) rowAt(i int) (row, x0 int, ok bool) {
	p := f.rowPiece[i]
	if p < 0 {
		return 0, 0, false
	}
	pc := &f.pieces[p]
	return pc.Row0 + i - pc.ArrRow, pc.X0, true
}

// colAt returns the operand column on array column j and its piece's stream offset.
func (f *stepFold) colAt(j int) (col, x0 int, ok bool) {
	p := f.colPiece[j]
	if p < 0 {
		return 0, 0, false
	}
	pc := &f.pieces[p]
	return pc.Col0 + j - pc.ArrCol, pc.X0, true
}

type stepper struct {
	df        hw.Dataflow
	R, C      int
	M, N, K   int
	Sr, Sc, T int
	a, b      []float64
	mode      StepMode
	folds     []stepFold
}

// Resource kinds of the reservation table.
const (
	resRowPort = iota // streamed operand entering row i
	resColPort        // os: filter entering column j; ws/is: partial sum entering column j
	resBus            // os: column j output bus
	resFeed           // ws/is: top of column j's transit chain
	resShadow         // ws/is: shadow register (i, j) holding a value not yet switched in
)

type resKey struct {
	kind, i, j int
	cyc        int64
}

// plan decides every fold's start cycle with a reservation table: a fold takes the earliest
// start ≥ the previous fold's at which none of the cycles it would hold a resource collides
// with an earlier fold (the classic pipeline-controller scheme). In serial mode a fold also
// waits for the previous fold's wavefront to leave the array. The executor then checks the
// schedule independently, value by value.
func (s *stepper) plan() {
	used := map[resKey]bool{}
	for j := range s.C {
		used[resKey{resFeed, 0, j, -1}] = true // nothing can be fed before cycle 0
	}
	R, C := int64(s.R), int64(s.C)
	stationary := s.df != hw.OutputStationary
	var t, serialEnd int64
	if stationary {
		t = R // the first block is fed over cycles 0..R-1
	}
	var keys []resKey
	for fi := range s.folds {
		f := &s.folds[fi]
		if s.mode == StepSerial {
			start := serialEnd
			if stationary {
				start += R
			}
			t = max(t, start)
		}
		for {
			keys = s.reservations(keys[:0], f, t)
			ok := true
			for _, k := range keys {
				if used[k] {
					ok = false
					break
				}
			}
			if ok {
				for _, k := range keys {
					used[k] = true
				}
				break
			}
			t++
		}
		f.t = t
		serialEnd = t + int64(f.T) + R + C - 2 // the wavefront has cleared PE(R-1, C-1)
	}
}

// reservations appends to keys the (resource, cycle) pairs a fold starting at t would hold.
func (s *stepper) reservations(keys []resKey, f *stepFold, t int64) []resKey {
	R, C, T := s.R, s.C, int64(f.T)
	for i := range R {
		for x := range T {
			keys = append(keys, resKey{resRowPort, i, 0, t + int64(i) + x})
		}
	}
	for j := range C {
		for x := range T {
			keys = append(keys, resKey{resColPort, 0, j, t + int64(j) + x})
		}
	}
	if s.df == hw.OutputStationary {
		for i := range f.Rows {
			for j := range f.Cols {
				keys = append(keys, resKey{resBus, 0, j, t + T - 1 + int64(i+j)})
			}
		}
		return keys
	}
	// Column j's block is fed into its transit chain from cycle L = t − R + j, bottom row
	// first, one value per cycle; every value reaches its row at the end of cycle L+R−1 and is
	// latched into shadow(i, j), which then holds it until the fold switches PE(i, j) in at the
	// start of cycle t+i+j.
	for j := range C {
		L := t - int64(R) + int64(j)
		for c := L; c < L+int64(R); c++ {
			keys = append(keys, resKey{resFeed, 0, j, c})
		}
		for i := range R {
			for c := L + int64(R); c <= t+int64(i+j); c++ {
				keys = append(keys, resKey{resShadow, i, j, c})
			}
		}
	}
	return keys
}

type token struct {
	valid bool
	real  bool // carries an operand (not a bubble of an unused row or column)
	fold  int
	x     int // stream index
	row   int // stationary values: the array row the value is meant for
	v     float64
}

func (s *stepper) run() (*StepResult, error) {
	R, C := s.R, s.C
	res := &StepResult{Out: make([]float64, s.M*s.N)}
	for _, f := range s.folds {
		res.FoldStarts = append(res.FoldStarts, f.t)
	}
	h := newGrid(R, C)   // streamed operand moving right (os, ws: ifmap; is: filter)
	v := newGrid(R, C)   // moving down (os: filter; ws/is: partial sums)
	tr := newGrid(R, C)  // ws/is: transit chains carrying stationary values down
	sh := newGrid(R, C)  // ws/is: shadow registers
	act := newGrid(R, C) // ws/is: the stationary value in use
	acc := make([]float64, R*C)
	var horizon int64
	for _, f := range s.folds {
		horizon = max(horizon, f.t+int64(f.T+R+C)+2)
	}
	var lastWrite, lastToken int64 = -1, -1
	busy := map[[2]int64]bool{} // (column, cycle) output-port use

	for c := int64(0); c <= horizon; c++ {
		// 1. Shift right and down; inject at the left and top edges.
		for i := range R {
			for j := C - 1; j > 0; j-- {
				h[i][j] = h[i][j-1]
			}
			tok, err := s.inject(c, i, true)
			if err != nil {
				return nil, err
			}
			h[i][0] = tok
		}
		for j := range C {
			for i := R - 1; i > 0; i-- {
				v[i][j] = v[i-1][j]
			}
			tok, err := s.inject(c, j, false)
			if err != nil {
				return nil, err
			}
			v[0][j] = tok
		}
		// 2. Compute.
		for i := range R {
			for j := range C {
				x, y := h[i][j], v[i][j]
				if x.valid || y.valid {
					lastToken = c
				}
				if x.valid && y.valid && (x.fold != y.fold || x.x != y.x) {
					return nil, fmt.Errorf("step: cycle %d PE(%d,%d): operands of fold %d/%d and fold %d/%d meet", c, i, j, x.fold, x.x, y.fold, y.x)
				}
				if s.df == hw.OutputStationary {
					if !x.real || !y.real {
						continue
					}
					acc[i*C+j] += x.v * y.v
					res.MACs++
					f := s.folds[x.fold]
					if x.x == f.T-1 {
						if err := take(busy, j, c); err != nil {
							return nil, err
						}
						m, n := f.Row0+i, f.Col0+j
						res.Out[m*s.N+n] += acc[i*C+j]
						acc[i*C+j] = 0
						lastWrite = c
					}
					continue
				}
				if !y.valid {
					continue
				}
				if y.x == 0 { // the fold's first partial sum switches its block in
					w := sh[i][j]
					if !w.valid || w.fold != y.fold || w.row != i {
						return nil, fmt.Errorf("step: cycle %d PE(%d,%d): fold %d would switch in a stale stationary value (fold %d, row %d)", c, i, j, y.fold, w.fold, w.row)
					}
					act[i][j] = w
				}
				w := act[i][j]
				if !w.valid || w.fold != y.fold {
					return nil, fmt.Errorf("step: cycle %d PE(%d,%d): fold %d meets the stationary value of fold %d", c, i, j, y.fold, w.fold)
				}
				if x.real && w.real && y.real {
					v[i][j].v += x.v * w.v
					res.MACs++
				}
				if i == R-1 && y.real {
					if err := take(busy, j, c); err != nil {
						return nil, err
					}
					f := &s.folds[y.fold]
					col, x0, _ := f.colAt(j)
					m, n := x0+y.x, col // ws: (pixel, filter)
					if s.df == hw.InputStationary {
						m, n = col, x0+y.x
					}
					res.Out[m*s.N+n] += v[i][j].v
					lastWrite = c
				}
			}
		}
		// 3. ws/is, end of cycle: the transit chains shift down one row and take the fed value
		// at the top; a value that has reached its row is latched into the shadow register.
		if s.df != hw.OutputStationary {
			for j := range C {
				tok, err := s.feed(c, j)
				if err != nil {
					return nil, err
				}
				for i := R - 1; i > 0; i-- {
					tr[i][j] = tr[i-1][j]
				}
				tr[0][j] = tok
				for i := range R {
					if tr[i][j].valid && tr[i][j].row == i {
						sh[i][j] = tr[i][j]
						tr[i][j] = token{}
					}
				}
			}
		}
	}
	if s.mode == StepSerial {
		res.Cycles = lastToken + 1
	} else {
		res.Cycles = lastWrite + 1
	}
	return res, nil
}

// take claims column j's output port for cycle c.
func take(busy map[[2]int64]bool, j int, c int64) error {
	k := [2]int64{int64(j), c}
	if busy[k] {
		return fmt.Errorf("step: cycle %d: column %d output port taken twice", c, j)
	}
	busy[k] = true
	return nil
}

// inject returns the token entering row i (row=true) or column i at cycle c.
func (s *stepper) inject(c int64, i int, row bool) (token, error) {
	var tok token
	for fi, f := range s.folds {
		x := c - f.t - int64(i)
		if x < 0 || x >= int64(f.T) {
			continue
		}
		if tok.valid {
			return token{}, fmt.Errorf("step: cycle %d: two folds enter port %d at once", c, i)
		}
		tok = token{valid: true, fold: fi, x: int(x)}
		X := f.X0 + int(x) // the stream element (os)
		switch {
		case s.df == hw.OutputStationary && row: // ifmap A[m][k], m = Row0+i, k = X
			if i < f.Rows {
				tok.real, tok.v = true, s.a[(f.Row0+i)*s.K+X]
			}
		case s.df == hw.OutputStationary: // filter B[k][n], k = X, n = Col0+i
			if i < f.Cols {
				tok.real, tok.v = true, s.b[X*s.N+f.Col0+i]
			}
		case row: // ws: ifmap A[m][k], m = x0+x, k = the row; is: filter B[k][n], n = x0+x
			if k, x0, ok := s.folds[fi].rowAt(i); ok {
				tok.real = true
				if s.df == hw.WeightStationary {
					tok.v = s.a[(x0+int(x))*s.K+k]
				} else {
					tok.v = s.b[k*s.N+x0+int(x)]
				}
			}
		default: // ws/is: a zero partial sum enters column i
			_, _, tok.real = s.folds[fi].colAt(i)
		}
	}
	return tok, nil
}

// feed returns the stationary value entering the top of column j's transit chain at cycle c:
// fold f feeds over cycles L..L+R−1 with L = t−R+j, bottom row first.
func (s *stepper) feed(c int64, j int) (token, error) {
	var tok token
	for fi, f := range s.folds {
		y := c - (f.t - int64(s.R) + int64(j))
		if y < 0 || y >= int64(s.R) {
			continue
		}
		if tok.valid {
			return token{}, fmt.Errorf("step: cycle %d: two folds feed column %d at once", c, j)
		}
		row := s.R - 1 - int(y)
		tok = token{valid: true, fold: fi, row: row}
		sf := &s.folds[fi]
		if p := sf.rowPiece[row]; p >= 0 && p == sf.colPiece[j] { // off the diagonal: a zero
			k, _, _ := sf.rowAt(row)
			col, _, _ := sf.colAt(j)
			tok.real = true
			if s.df == hw.WeightStationary {
				tok.v = s.b[k*s.N+col] // filter B[k][n]
			} else {
				tok.v = s.a[col*s.K+k] // ifmap A[m][k]
			}
		}
	}
	return tok, nil
}

func newGrid(r, c int) [][]token {
	g := make([][]token, r)
	for i := range g {
		g[i] = make([]token, c)
	}
	return g
}
