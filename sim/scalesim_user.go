package sim

import (
	"fmt"
	"slices"

	"github.com/vggsim/vggsim/hw"
)

// This file emulates SCALE-Sim v2's memory system in USER bandwidth mode
// (InterfaceBandwidth: USER): scalesim/memory/read_buffer.py for the ifmap and filter SRAMs,
// write_buffer.py with a B-word write port for the ofmap SRAM, and the row loop of
// double_buffered_scratchpad.service_memory_requests that turns their delays into stalls.
// docs/simulator.md §3.7 states the algorithm.

// ssPrefetchSets is the number of sets SCALE-Sim's read buffer cuts its SRAM into: a set holds
// ceil(SRAM words / 100) distinct-or-not stream elements.
const ssPrefetchSets = 100

// ssUserReadBuf emulates read_buffer.py. The operand's prefetch stream (its fetch matrix,
// read row by row) is cut into sets of e non-null elements; the active window is nActive
// consecutive sets (circularly); a demanded address that is in no set of the window slides the
// window by nPrefetch sets and issues a prefetch of p lines of b words, one line per cycle,
// starting the cycle after the previous prefetch's last line; the DRAM read port adds one
// cycle. What a prefetch carries never changes a reported number, so only its cycles and its
// size are kept; the DRAM trace replays the lines themselves (ssUserFetch).
type ssUserReadBuf struct {
	numSets, nActive, nPrefetch int
	start                       int // first set of the active window

	// occ[off[a]:off[a+1]] lists, ascending, the sets that hold address a.
	off []int32
	occ []int32
	// hitAt[a] == window+1 caches that a hit in the current window (window counts slides).
	hitAt  []uint32
	window uint32

	p            int64 // lines per new prefetch: ceil(prefetch half / b)
	b            int64
	lastPrefetch int64 // cycle the last prefetched line arrived
	accesses     int64 // DRAM words requested, whole lines
	traceFirst   int64
	traceLast    int64

	seen              bool
	firstOut, lastOut int64
}

// newSSUserReadBuf builds the buffer for an operand whose prefetch stream is produced by
// stream (every element in order, -1 for a null request) over addresses [0, space).
func newSSUserReadBuf(sramkB int, b int, space int, stream func(emit func(int32))) *ssUserReadBuf {
	total := int64(sramkB) * 1024
	active := ceilDiv64(total, 2) // int(ceil(total · 0.5))
	prefetch := total - active
	e := ceilDiv64(total, ssPrefetchSets)

	// Pass 1: count the non-null elements per address and the stream length.
	off := make([]int32, space+1)
	var n, length int64
	stream(func(a int32) {
		length++
		if a >= 0 {
			off[a+1]++
			n++
		}
	})
	for i := 1; i <= space; i++ {
		off[i] += off[i-1]
	}
	// Pass 2: element j (0-based among non-null ones) is in set j/e; sets come in order, so
	// every address's list is ascending. A set may list an address twice; that is harmless.
	occ := make([]int32, n)
	fill := slices.Clone(off[:space])
	var j int64
	stream(func(a int32) {
		if a >= 0 {
			occ[fill[a]] = int32(j / e)
			fill[a]++
			j++
		}
	})

	r := &ssUserReadBuf{off: off, occ: occ, hitAt: make([]uint32, space), b: int64(b)}
	// prepare_hashed_buffer always appends the set being filled, empty or not.
	r.numSets = int(n/e) + 1
	r.nActive = min(r.numSets, int(ceilDiv64(active, e)))
	r.nPrefetch = min(r.numSets-r.nActive, int(ceilDiv64(prefetch, e)))
	r.p = ceilDiv64(prefetch, r.b)

	// prefetch_active_buffer, at the first demand row (cycle 0): lines0 lines at cycles
	// -lines0 … -1 once the port latency is added. They cost nothing.
	lines0 := min(ceilDiv64(active, r.b), ceilDiv64(length, r.b))
	r.accesses = lines0 * r.b
	r.traceFirst = -lines0
	r.traceLast = -1
	r.lastPrefetch = -1
	return r
}

// hit reports whether address a is in one of the active window's sets.
func (r *ssUserReadBuf) hit(a int32) bool {
	if r.hitAt[a] == r.window+1 {
		return true
	}
	if r.inWindow(a) {
		r.hitAt[a] = r.window + 1
		return true
	}
	return false
}

func (r *ssUserReadBuf) inWindow(a int32) bool {
	sets := r.occ[r.off[a]:r.off[a+1]]
	lo, hi := r.start, r.start+r.nActive
	if hi <= r.numSets {
		i, _ := slices.BinarySearch(sets, int32(lo))
		return i < len(sets) && int(sets[i]) < hi
	}
	// The window wraps: [lo, numSets) ∪ [0, hi-numSets).
	return (len(sets) > 0 && int(sets[len(sets)-1]) >= lo) || (len(sets) > 0 && int(sets[0]) < hi-r.numSets)
}

// newPrefetch slides the window and issues one prefetch (new_prefetch).
func (r *ssUserReadBuf) newPrefetch() {
	r.start = (r.start + r.nPrefetch) % r.numSets
	r.window++
	r.accesses += r.p * r.b
	r.lastPrefetch += r.p + 1 // requests at last+1 … last+p, each answered one cycle later
	r.traceLast = r.lastPrefetch
}

// serviceRow services one demand row at cycle cyc and returns the cycle it completes: the hit
// latency (1) later, or when the last prefetch it waited for arrived.
func (r *ssUserReadBuf) serviceRow(addrs []int32, cyc int64) int64 {
	offset := int64(1)
	for _, a := range addrs {
		for !r.hit(a) {
			r.newPrefetch()
			if stall := r.lastPrefetch - (cyc + offset); stall > 0 {
				offset += stall
			}
		}
	}
	out := cyc + offset
	if len(addrs) > 0 {
		if !r.seen {
			r.seen = true
			r.firstOut = out
		}
		r.lastOut = out
	}
	return out
}

func (r *ssUserReadBuf) sram(count int64) ScaleSimAccess {
	return ScaleSimAccess{StartCycle: r.firstOut, StopCycle: r.lastOut, Count: count}
}

func (r *ssUserReadBuf) dram() ScaleSimAccess {
	return ScaleSimAccess{StartCycle: r.traceFirst, StopCycle: r.traceLast, Count: r.accesses}
}

// diagonal emits an rows×cols matrix along its anti-diagonals, each from its bottom-left
// element up (SCALE-Sim's prefetch unrolling that follows the skewed demand, issues #15/#16).
func diagonal(rows, cols int, at func(r, c int) int32, emit func(int32)) {
	for d := range rows + cols - 1 {
		for r := min(d, rows-1); r >= max(0, d-cols+1); r-- {
			emit(at(r, d-r))
		}
	}
}

// rowMajor emits an rows×cols matrix row by row.
func rowMajor(rows, cols int, at func(r, c int) int32, emit func(int32)) {
	for r := range rows {
		for c := range cols {
			emit(at(r, c))
		}
	}
}

// ifmapPrefetch produces the ifmap prefetch stream of the dataflow (the systolic_compute_*
// create_ifmap_prefetch_mat functions): the operand slices of every row fold (os, ws) or
// column fold (is), padded with nulls to the array edge, stacked, then unrolled.
func (s *ssLayer) ifmapPrefetch(emit func(int32)) {
	R, C := s.R, s.C
	switch s.df {
	case hw.OutputStationary: // per row fold: T×R slice of ifmapᵀ, diagonal
		diagonal(s.rowFolds*s.T, R, func(r, c int) int32 {
			fr, t := r/s.T, r%s.T
			if fr*R+c >= s.Sr {
				return -1
			}
			return s.ifAddr(fr*R+c, t)
		}, emit)
	case hw.WeightStationary: // per row fold: M×R slice of the ifmap, diagonal
		diagonal(s.rowFolds*s.M, R, func(r, c int) int32 {
			fr, m := r/s.M, r%s.M
			if fr*R+c >= s.Sr {
				return -1
			}
			return s.ifAddr(m, fr*R+c)
		}, emit)
	default: // per column fold: K×C slice of ifmapᵀ, row major
		rowMajor(s.colFolds*s.K, C, func(r, c int) int32 {
			fc, k := r/s.K, r%s.K
			if fc*C+c >= s.Sc {
				return -1
			}
			return s.ifAddr(fc*C+c, k)
		}, emit)
	}
}

// filterPrefetch produces the filter prefetch stream (create_filter_prefetch_mat).
func (s *ssLayer) filterPrefetch(emit func(int32)) {
	R, C, K := s.R, s.C, s.K
	switch s.df {
	case hw.OutputStationary: // per column fold: K×C slice of the filter, diagonal
		diagonal(s.colFolds*K, C, func(r, c int) int32 {
			fc, k := r/K, r%K
			if fc*C+c >= s.Sc {
				return -1
			}
			return int32((fc*C+c)*K + k)
		}, emit)
	case hw.WeightStationary: // per column fold: K×C slice of the filter, row major
		rowMajor(s.colFolds*K, C, func(r, c int) int32 {
			fc, k := r/K, r%K
			if fc*C+c >= s.Sc {
				return -1
			}
			return int32((fc*C+c)*K + k)
		}, emit)
	default: // per row fold: N×R slice of filterᵀ, diagonal
		diagonal(s.rowFolds*s.N, R, func(r, c int) int32 {
			fr, n := r/s.N, r%s.N
			if fr*R+c >= s.Sr {
				return -1
			}
			return int32(n*K + fr*R + c)
		}, emit)
	}
}

// ifmapRow appends the ifmap addresses of row r of fold (fc, fr), left to right.
func (s *ssLayer) ifmapRow(dst []int32, fc, fr, r, ru, cu int) []int32 {
	d := s.ifmapDiag(fc, fr, r, ru, cu)
	for c := d.lo; c <= d.hi; c++ {
		if a := s.ifAddr(d.i0+d.di*c, d.k0+d.dk*c); a >= 0 {
			dst = append(dst, a)
		}
	}
	return dst
}

// filterRow appends the filter addresses of row r of fold (fc, fr), left to right.
func (s *ssLayer) filterRow(dst []int32, fc, fr, r, ru, cu int) []int32 {
	d := s.filterDiag(fc, fr, r, ru, cu)
	for c := d.lo; c <= d.hi; c++ {
		dst = append(dst, int32((d.i0+d.di*c)*s.K+d.k0+d.dk*c))
	}
	return dst
}

// simulateUser runs the memory system of USER mode over the layer's demand rows and fills the
// cycle, stall and access fields of rep.
func (s *ssLayer) simulateUser(cfg *ScaleSimConfig, rep *ScaleSimReport, cycles *[]ssRowCycles) {
	bw := cfg.Bandwidth[0]
	ifb := newSSUserReadBuf(cfg.IfmapSRAMkB, bw, s.ifmapWords, s.ifmapPrefetch)
	fib := newSSUserReadBuf(cfg.FilterSRAMkB, bw, s.K*s.N, s.filterPrefetch)
	wb := newSSWriteBuf(cfg.OfmapSRAMkB, bw)

	var stall, lastOut int64
	var ifRow, fiRow []int32
	for fc := range s.colFolds {
		for fr := range s.rowFolds {
			ru, cu := s.fold(fc, fr)
			pre, lo, hi, cols := s.ofmapStream(ru, cu)
			base := (int64(fc)*int64(s.rowFolds) + int64(fr)) * s.L
			for r := range int(s.L) {
				cyc := base + int64(r) + stall
				ifRow = s.ifmapRow(ifRow[:0], fc, fr, r, ru, cu)
				fiRow = s.filterRow(fiRow[:0], fc, fr, r, ru, cu)
				ifOut, fiOut := ifb.serviceRow(ifRow, cyc), fib.serviceRow(fiRow, cyc)
				rowStall := max(ifOut-cyc-1, fiOut-cyc-1, 0)
				out := cyc
				if n := min(cols-1, r-pre-lo) - max(0, r-pre-hi+1) + 1; n > 0 {
					out = wb.serviceRow(cyc, int64(n))
				}
				if cycles != nil {
					*cycles = append(*cycles, ssRowCycles{ifOut, fiOut, out})
				}
				lastOut = out
				stall += max(rowStall, out-cyc)
			}
		}
	}
	rep.TotalCycles = lastOut
	rep.StallCycles = stall
	wb.finish(lastOut)
	rep.OfmapSRAM = ScaleSimAccess{StartCycle: wb.firstOut, StopCycle: wb.lastOut}
	rep.OfmapDRAM = wb.dram()
	rep.IfmapSRAM = ifb.sram(0)
	rep.FilterSRAM = fib.sram(0)
	rep.IfmapDRAM = ifb.dram()
	rep.FilterDRAM = fib.dram()
}

// ScaleSimOperand names one of SCALE-Sim's three SRAM traces.
type ScaleSimOperand int

// The SRAM traces, in the order SCALE-Sim services a demand row.
const (
	IfmapTrace  ScaleSimOperand = iota // IFMAP_SRAM_TRACE.csv
	FilterTrace                        // FILTER_SRAM_TRACE.csv
	OfmapTrace                         // OFMAP_SRAM_TRACE.csv
)

// ssRowCycles are the cycles one demand row was served at, per operand.
type ssRowCycles struct{ ifmap, filter, ofmap int64 }

// TraceScaleSimLayer simulates one layer like SimulateScaleSimLayer and also calls row for
// every demand row of its three SRAM traces, row by row and, within a row, ifmap, filter,
// ofmap: the cycle the row was served and the addresses the array edge asked for (the
// configured offsets added, -1 where a port is idle), exactly the rows of SCALE-Sim's
// IFMAP_SRAM_TRACE.csv, FILTER_SRAM_TRACE.csv and OFMAP_SRAM_TRACE.csv. The addrs slice is
// reused between calls. The first error row returns stops the trace and is returned.
func TraceScaleSimLayer(cfg ScaleSimConfig, id int, layer ScaleSimLayer,
	row func(op ScaleSimOperand, cycle int64, addrs []int64) error) (ScaleSimReport, error) {
	s, rep, cycles, err := traceLayer(&cfg, id, &layer)
	if err != nil {
		return rep, err
	}
	wIf, wFi := s.R, s.C
	if s.df == hw.InputStationary {
		wIf, wFi = s.C, s.R
	}
	ifRow, fiRow, ofRow := make([]int64, wIf), make([]int64, wFi), make([]int64, s.C)
	i := 0
	for fc := range s.colFolds {
		for fr := range s.rowFolds {
			ru, cu := s.fold(fc, fr)
			for r := range int(s.L) {
				s.ifmapFull(ifRow, fc, fr, r, ru, cu, cfg.IfmapOffset)
				s.filterFull(fiRow, fc, fr, r, ru, cu, cfg.FilterOffset)
				s.ofmapFull(ofRow, fc, fr, r, ru, cu, cfg.OfmapOffset)
				c := cycles[i]
				i++
				for _, e := range []struct {
					op  ScaleSimOperand
					cyc int64
					a   []int64
				}{{IfmapTrace, c.ifmap, ifRow}, {FilterTrace, c.filter, fiRow}, {OfmapTrace, c.ofmap, ofRow}} {
					if err := row(e.op, e.cyc, e.a); err != nil {
						return rep, err
					}
				}
			}
		}
	}
	return rep, nil
}

// traceLayer validates cfg and layer, simulates the layer and returns its geometry, its report
// and the served cycles of every demand row (in CALC mode rebuilt by the ofmap buffer alone,
// the only source of stalls there).
func traceLayer(cfg *ScaleSimConfig, id int, layer *ScaleSimLayer) (*ssLayer, ScaleSimReport, []ssRowCycles, error) {
	if err := cfg.Validate(); err != nil {
		return nil, ScaleSimReport{}, nil, err
	}
	if err := layer.Validate(); err != nil {
		return nil, ScaleSimReport{}, nil, err
	}
	s := newSSLayer(cfg, layer)
	var cycles []ssRowCycles
	rep := simulateScaleSimLayerTraced(cfg, id, layer, &ssScratch{}, &cycles)
	if !cfg.user() {
		cycles = cycles[:0]
		s.calcWrites(newSSWriteBuf(cfg.OfmapSRAMkB, s.C), &cycles)
	}
	return s, rep, cycles, nil
}

func fillNull(dst []int64) {
	for i := range dst {
		dst[i] = -1
	}
}

// ifmapFull writes the ifmap demand row r of fold (fc, fr), full width, into dst.
func (s *ssLayer) ifmapFull(dst []int64, fc, fr, r, ru, cu int, off int64) {
	fillNull(dst)
	d := s.ifmapDiag(fc, fr, r, ru, cu)
	for c := d.lo; c <= d.hi; c++ {
		if a := s.ifAddr(d.i0+d.di*c, d.k0+d.dk*c); a >= 0 {
			dst[c] = int64(a) + off
		}
	}
}

// filterFull writes the filter demand row r of fold (fc, fr), full width, into dst.
func (s *ssLayer) filterFull(dst []int64, fc, fr, r, ru, cu int, off int64) {
	fillNull(dst)
	d := s.filterDiag(fc, fr, r, ru, cu)
	for c := d.lo; c <= d.hi; c++ {
		dst[c] = int64((d.i0+d.di*c)*s.K+d.k0+d.dk*c) + off
	}
}

// ofmapFull writes the ofmap demand row r of fold (fc, fr), full width, into dst. Ofmap word
// (m, n) is m·N + n.
func (s *ssLayer) ofmapFull(dst []int64, fc, fr, r, ru, cu int, off int64) {
	fillNull(dst)
	R, N := s.R, s.N
	pre, lo, hi, cols := s.ofmapStream(ru, cu)
	for c := range cols {
		j := r - pre - c // block row
		if j < lo || j >= hi {
			continue
		}
		var a int
		switch s.df {
		case hw.OutputStationary: // the block is flipped: block row j is pixel fr·R + R-1-j
			a = (fr*R+R-1-j)*N + fc*s.C + c
		case hw.WeightStationary: // block row j is pixel j
			a = j*N + fc*s.C + c
		default: // block row j is filter j, column c pixel fc·C + c
			a = (fc*s.C+c)*N + j
		}
		dst[c] = int64(a) + off
	}
}

// ssUserFetch replays the prefetch lines of read_buffer.py (USER mode) for the DRAM trace.
// The operand's prefetch stream, nulls included, is laid out b words per line (the fetch
// matrix F); the first prefetch (prefetch_active_buffer) sends lines 0 … n0-1,
// n0 = min(⌈active/b⌉, lines), and every later one (new_prefetch) the n = ⌈prefetch/b⌉ lines
// from next_line on, wrapping around. SCALE-Sim's bookkeeping is kept as it is written:
//
//   - when a prefetch requests more words than the active half holds (n·b > active, or
//     n0·b > active for the first), the words from column active mod b on of its last line
//     become null, and the next prefetch starts at line n (n0) mod lines, otherwise at
//     n+1 (n0+1) mod lines: next_line is not advanced from the previous start, so every
//     prefetch after the second starts at the same line;
//   - the first n0·b > active sets next_col = active mod b, and every later prefetch nulls the
//     first next_col words of its first line;
//   - a prefetch that does not wrap is a NumPy view of F, so its nulling changes F for the
//     prefetches after it; a wrapping one is a copy.
type ssUserFetch struct {
	f         []int32 // F, lines·b words, -1 null
	b, lines  int
	active    int64
	n0, n     int
	nextLine  int
	nextCol   int
	lastCycle int64 // cycle the last prefetched line arrived
}

func newSSUserFetch(sramkB, b int, stream func(emit func(int32))) *ssUserFetch {
	total := int64(sramkB) * 1024
	active := ceilDiv64(total, 2)
	var f []int32
	stream(func(a int32) { f = append(f, a) })
	lines := int(ceilDiv64(int64(len(f)), int64(b)))
	for len(f) < lines*b {
		f = append(f, -1)
	}
	u := &ssUserFetch{f: f, b: b, lines: lines, active: active,
		n0: min(int(ceilDiv64(active, int64(b))), lines), n: int(ceilDiv64(total-active, int64(b)))}
	return u
}

// nullTail nulls the words of line (a b-word slice) from column active mod b on.
func (u *ssUserFetch) nullTail(line []int32) {
	for c := int(u.active % int64(u.b)); c < u.b; c++ {
		line[c] = -1
	}
}

// first returns the lines of prefetch_active_buffer, served at cycles -n0 … -1, and prepares
// the next prefetch.
func (u *ssUserFetch) first() []int32 {
	b := u.b
	req := u.f[:u.n0*b]
	if int64(u.n0*b) > u.active {
		u.nullTail(req[(u.n0-1)*b:])
		u.nextCol = int(u.active % int64(b))
		u.nextLine = u.n0 % u.lines
	} else {
		u.nextLine = (u.n0 + 1) % u.lines
	}
	u.lastCycle = -1
	return slices.Clone(req)
}

// next returns the lines of one new_prefetch, served at cycles lastCycle+2 … lastCycle+n+1.
func (u *ssUserFetch) next() ([]int32, error) {
	b, start, end := u.b, u.nextLine, u.nextLine+u.n
	var req []int32
	if end > u.lines {
		req = slices.Concat(u.f[start*b:], u.f[:min(end-u.lines, start)*b])
		if len(req) != u.n*b {
			// np.concatenate of the n response cycles with fewer request lines fails.
			return nil, fmt.Errorf("read buffer: a prefetch of %d lines from line %d of a %d-line fetch matrix", u.n, start, u.lines)
		}
	} else {
		req = u.f[start*b : end*b] // a view: the nulling below changes F
	}
	for c := range u.nextCol {
		req[c] = -1
	}
	if int64(u.n*b) > u.active {
		u.nullTail(req[(u.n-1)*b:])
		u.nextLine = u.n % u.lines
	} else {
		u.nextLine = (u.n + 1) % u.lines
	}
	return slices.Clone(req), nil
}

// userReadTrace calls row for every line of a USER-mode read buffer's DRAM trace: the initial
// prefetch and then prefetches more, the number the simulation issued.
func userReadTrace(op ScaleSimOperand, u *ssUserFetch, prefetches int64, off int64,
	row func(ScaleSimOperand, int64, []int64) error) error {
	line := make([]int64, u.b)
	emit := func(req []int32, cycle int64) error {
		for i := 0; i < len(req); i += u.b {
			for c, a := range req[i : i+u.b] {
				line[c] = -1
				if a >= 0 {
					line[c] = int64(a) + off
				}
			}
			if err := row(op, cycle, line); err != nil {
				return err
			}
			cycle++
		}
		return nil
	}
	if err := emit(u.first(), int64(-u.n0)); err != nil {
		return err
	}
	for range prefetches {
		req, err := u.next()
		if err != nil {
			return err
		}
		if err := emit(req, u.lastCycle+2); err != nil {
			return err
		}
		u.lastCycle += int64(u.n) + 1
	}
	return nil
}
