package sim

import (
	"fmt"

	"github.com/vggsim/vggsim/hw"
)

// This file produces SCALE-Sim's DRAM traces (IFMAP_DRAM_TRACE.csv, FILTER_DRAM_TRACE.csv,
// OFMAP_DRAM_TRACE.csv) by running the memory system of scalesim/memory on the layer's
// demand rows: read_buffer_estimate_bw.py (CALC mode) for the ifmap and filter SRAMs,
// write_buffer.py for the ofmap SRAM. The report's numbers do not need the trace contents
// (scalesim_mem.go keeps only counts and cycles); the traces do, so the sets of addresses a
// read buffer prefetches are kept here in the order CPython iterates them (pySet).

// pyHashModulus is CPython's modulus for hashing integers (2^61 − 1 on 64-bit builds).
const pyHashModulus = 1<<61 - 1

// pySet reproduces the slot layout of a CPython set of non-negative integers built by add
// alone (Objects/setobject.c: set_add_entry with 9 linear probes then perturbed probing,
// a resize to the smallest power of two above 4·used when fill·5 ≥ mask·3, re-inserting in
// table order), so that its iteration order, list(set), is CPython's.
type pySet struct {
	table      []int64 // -1: empty slot
	mask       uint64
	fill, used int
}

const (
	pySetMinSize  = 8
	pyLinearProbe = 9
	pyPerturb     = 5
)

func newPySet() *pySet {
	s := &pySet{table: make([]int64, pySetMinSize), mask: pySetMinSize - 1}
	for i := range s.table {
		s.table[i] = -1
	}
	return s
}

// add inserts key (≥ 0), which the set must not hold yet.
func (s *pySet) add(key int64) {
	hash := uint64(key) % pyHashModulus
	mask := s.mask
	i := hash & mask
	perturb := hash
	for {
		probes := uint64(0)
		if i+pyLinearProbe <= mask {
			probes = pyLinearProbe
		}
		for j := i; j <= i+probes; j++ {
			if s.table[j] == -1 {
				s.table[j] = key
				s.fill++
				s.used++
				if uint64(s.fill)*5 >= mask*3 {
					minUsed := s.used * 4
					if s.used > 50000 {
						minUsed = s.used * 2
					}
					s.resize(minUsed)
				}
				return
			}
		}
		perturb >>= pyPerturb
		i = (i*5 + 1 + perturb) & mask
	}
}

// resize moves the entries to a table of the smallest power of two above minUsed, in the
// order of the old table (set_table_resize, set_insert_clean).
func (s *pySet) resize(minUsed int) {
	size := uint64(pySetMinSize)
	for size <= uint64(minUsed) {
		size <<= 1
	}
	old := s.table
	s.table = make([]int64, size)
	for i := range s.table {
		s.table[i] = -1
	}
	s.mask = size - 1
	s.fill = s.used
	for _, key := range old {
		if key < 0 {
			continue
		}
		hash := uint64(key) % pyHashModulus
		i := hash & s.mask
		perturb := hash
	probe:
		for {
			if s.table[i] == -1 {
				s.table[i] = key
				break
			}
			if i+pyLinearProbe <= s.mask {
				for j := i + 1; j <= i+pyLinearProbe; j++ {
					if s.table[j] == -1 {
						s.table[j] = key
						break probe
					}
				}
			}
			perturb >>= pyPerturb
			i = (i*5 + 1 + perturb) & s.mask
		}
	}
}

// list returns the keys in iteration order.
func (s *pySet) list() []int64 {
	out := make([]int64, 0, s.used)
	for _, k := range s.table {
		if k >= 0 {
			out = append(out, k)
		}
	}
	return out
}

// dramPrefetch is one prefetch of a read buffer's DRAM trace: lines at cycles
// first, first+1, … (the read port's latency included), bw addresses each, the addresses
// in order and then -1 up to lines·bw.
type dramPrefetch struct {
	first, lines, bw int64
	addrs            []int64
}

// ssEstTrace replays ReadBufferEstimateBw (read_buffer_estimate_bw.py) to produce its
// trace: the distinct addresses of each epoch of 50 sets, in sets of items addresses held as
// CPython sets, prefetched as the epoch closes (the first epoch ahead of the first request,
// at 10 words per cycle; later ones spread over the cycles of the previous epoch's window).
type ssEstTrace struct {
	items      int64
	seen       map[int64]int64 // address → epoch it was last seen in, plus one
	epoch      int64
	cur        *pySet
	curN       int64
	sets       [][]int64 // the current epoch's completed sets, in order
	firstReq   int64
	anyReq     bool
	activeDone bool
	lastStart  int64 // last_prefetch_start_cycle
	lastEnd    int64 // last_prefetch_end_cycle
	prefetches []dramPrefetch
	err        error
}

func newSSEstTrace(sramkB int) *ssEstTrace {
	return &ssEstTrace{items: int64(sramkB) * 1024 / ssSets, seen: map[int64]int64{}, cur: newPySet(),
		lastStart: -2, lastEnd: -1}
}

// row feeds one demand row (addresses, -1 for an idle port) at demand cycle cyc.
func (t *ssEstTrace) row(cyc int64, addrs []int64) {
	if !t.anyReq {
		for _, a := range addrs {
			if a > -1 {
				t.anyReq, t.firstReq = true, cyc
				break
			}
		}
	}
	for _, a := range addrs {
		if a == -1 || t.seen[a] == t.epoch+1 {
			continue // idle, or a hit in this epoch's sets (check_hit, current_set)
		}
		t.seen[a] = t.epoch + 1
		t.cur.add(a)
		t.curN++
		if t.curN < t.items {
			continue
		}
		t.sets = append(t.sets, t.cur.list())
		t.cur, t.curN = newPySet(), 0
		if int64(len(t.sets)) < ssActiveSets {
			continue
		}
		// The epoch's 50 sets are complete: prefetch them.
		if !t.activeDone {
			t.lastEnd = t.firstReq - 1 - 1 // one cycle before the first request, less the port latency
			t.lastStart = t.lastEnd - ceilDiv64(ssActiveSets*t.items, ssReadBWWords) + 1
			t.prefetch(ssReadBWWords)
			t.activeDone = true
		} else {
			t.prefetch(ceilDiv64(ssActiveSets*t.items, t.lastEnd-t.lastStart+1))
		}
		t.sets = t.sets[:0]
		t.epoch++
		t.lastStart, t.lastEnd = t.lastEnd+1, cyc
	}
}

// prefetch records the prefetch of the sets held at bw words per cycle over the cycles
// lastStart … lastEnd.
func (t *ssEstTrace) prefetch(bw int64) {
	lines := t.lastEnd - t.lastStart + 1
	var addrs []int64
	for _, s := range t.sets {
		addrs = append(addrs, s...)
	}
	if lines <= 0 || int64(len(addrs)) > lines*bw {
		// SCALE-Sim divides by zero or fails to reshape here (two epochs closing in one cycle).
		if t.err == nil {
			t.err = fmt.Errorf("read buffer: %d addresses to prefetch in %d cycles at %d words per cycle", len(addrs), lines, bw)
		}
		return
	}
	t.prefetches = append(t.prefetches, dramPrefetch{first: t.lastStart + 1, lines: lines, bw: bw, addrs: addrs})
}

// complete prefetches what is left after the last demand row (complete_all_prefetches).
func (t *ssEstTrace) complete() {
	if t.curN > 0 {
		t.sets = append(t.sets, t.cur.list())
	}
	if !t.activeDone {
		t.lastEnd = -1 - 1
		t.lastStart = t.lastEnd - ceilDiv64(int64(len(t.sets))*t.items, ssReadBWWords) + 1
		t.prefetch(ssReadBWWords)
		return
	}
	t.prefetch(ceilDiv64(int64(len(t.sets))*t.items, t.lastEnd-t.lastStart+1))
}

// emit calls row for every line of the trace, each line padded to the widest prefetch's
// width with 1 (SCALE-Sim pads narrower prefetches with np.ones columns).
func (t *ssEstTrace) emit(op ScaleSimOperand, row func(ScaleSimOperand, int64, []int64) error) error {
	width := int64(0)
	for _, p := range t.prefetches {
		width = max(width, p.bw)
	}
	line := make([]int64, width)
	for _, p := range t.prefetches {
		for i := range p.lines {
			for j := range width {
				switch k := i*p.bw + j; {
				case j >= p.bw:
					line[j] = 1
				case k < int64(len(p.addrs)):
					line[j] = p.addrs[k]
				default:
					line[j] = -1
				}
			}
			if err := row(op, p.first+i, line); err != nil {
				return err
			}
		}
	}
	return nil
}

// emitWrites calls row for every line wb drained (wb.rec): its cycle, then the line's
// addresses, -1 padded to the line width.
func emitWrites(wb *ssWriteBuf, op ScaleSimOperand, row func(ScaleSimOperand, int64, []int64) error) error {
	line := make([]int64, wb.width)
	for i, l := range wb.rec.done {
		n := copy(line, l)
		fillNull(line[n:])
		if err := row(op, wb.rec.cycles[i], line); err != nil {
			return err
		}
	}
	return nil
}

// TraceScaleSimDRAM simulates one layer like SimulateScaleSimLayer and calls row for every
// row of its DRAM traces, operand by operand (ifmap, filter, ofmap): the cycle, then the
// addresses of the row, exactly the rows SCALE-Sim writes to IFMAP_DRAM_TRACE.csv,
// FILTER_DRAM_TRACE.csv and OFMAP_DRAM_TRACE.csv (docs/simulator.md §3.9). Read rows are
// prefetch lines: in CALC mode, each epoch's distinct addresses in the order SCALE-Sim's
// Python sets hold them, -1 after the last one of a prefetch and 1 where a prefetch is
// narrower than the widest (SCALE-Sim's np.ones padding); in USER mode, the Bandwidth-word
// lines of the operand's fetch matrix that read_buffer.py sends (ssUserFetch), -1 for nulls;
// write rows are the drained lines of the ofmap buffer (ArrayWidth words in CALC mode, the
// bandwidth in USER mode, -1 padded), each at its drain cycle. The reported DRAM start and
// stop cycles are the first and last rows' cycles and the counts the addresses of the rows
// (USER reads: rows times the bandwidth; the ofmap: counted as the report does). The addrs
// slice is reused between calls; the first error row returns stops the trace and is returned.
func TraceScaleSimDRAM(cfg ScaleSimConfig, id int, layer ScaleSimLayer,
	row func(op ScaleSimOperand, cycle int64, addrs []int64) error) (ScaleSimReport, error) {
	s, rep, cycles, err := traceLayer(&cfg, id, &layer)
	if err != nil {
		return rep, err
	}
	width := s.C
	var ifT, fiT *ssEstTrace
	if cfg.user() {
		width = cfg.Bandwidth[0]
	} else {
		ifT, fiT = newSSEstTrace(cfg.IfmapSRAMkB), newSSEstTrace(cfg.FilterSRAMkB)
	}
	ofT := newSSWriteBuf(cfg.OfmapSRAMkB, width)
	ofT.rec = &ssWriteRec{}
	wIf, wFi := s.R, s.C
	if s.df == hw.InputStationary {
		wIf, wFi = s.C, s.R
	}
	ifRow, fiRow, ofRow := make([]int64, wIf), make([]int64, wFi), make([]int64, s.C)
	// Row i is demanded at i plus the stalls before it; a row's stall is the largest delay of
	// its three operands (SRAM reads are served a cycle after the demand).
	var stall int64
	i := 0
	for fc := range s.colFolds {
		for fr := range s.rowFolds {
			ru, cu := s.fold(fc, fr)
			for r := range int(s.L) {
				d := int64(i) + stall
				c := cycles[i]
				i++
				if ifT != nil {
					s.ifmapFull(ifRow, fc, fr, r, ru, cu, cfg.IfmapOffset)
					s.filterFull(fiRow, fc, fr, r, ru, cu, cfg.FilterOffset)
					ifT.row(d, ifRow)
					fiT.row(d, fiRow)
				}
				s.ofmapFull(ofRow, fc, fr, r, ru, cu, cfg.OfmapOffset)
				if out := ofT.serviceAddrs(d, ofRow); out != c.ofmap {
					return rep, fmt.Errorf("layer %d (%s): row %d: ofmap written at %d, the simulation says %d", id, layer.Name, i-1, out, c.ofmap)
				}
				stall += max(0, c.ifmap-d-1, c.filter-d-1, c.ofmap-d)
			}
		}
	}
	ofT.finish(rep.TotalCycles)
	if cfg.user() {
		b := cfg.Bandwidth[0]
		for _, rd := range []struct {
			op     ScaleSimOperand
			kB     int
			stream func(func(int32))
			acc    ScaleSimAccess
			off    int64
		}{{IfmapTrace, cfg.IfmapSRAMkB, s.ifmapPrefetch, rep.IfmapDRAM, cfg.IfmapOffset},
			{FilterTrace, cfg.FilterSRAMkB, s.filterPrefetch, rep.FilterDRAM, cfg.FilterOffset}} {
			u := newSSUserFetch(rd.kB, b, rd.stream)
			if u.lines == 0 {
				return rep, fmt.Errorf("layer %d (%s): empty prefetch matrix", id, layer.Name)
			}
			k := (rd.acc.Count - int64(u.n0*b)) / int64(u.n*b)
			if k < 0 || int64(u.n0*b)+k*int64(u.n*b) != rd.acc.Count {
				return rep, fmt.Errorf("layer %d (%s): %d DRAM reads are not %d + k·%d", id, layer.Name, rd.acc.Count, u.n0*b, u.n*b)
			}
			if err := userReadTrace(rd.op, u, k, rd.off, row); err != nil {
				return rep, fmt.Errorf("layer %d (%s): %w", id, layer.Name, err)
			}
		}
	}
	if ifT != nil {
		for _, t := range []*ssEstTrace{ifT, fiT} {
			t.complete()
			if t.err != nil {
				return rep, fmt.Errorf("layer %d (%s): %w", id, layer.Name, t.err)
			}
		}
		if err := ifT.emit(IfmapTrace, row); err != nil {
			return rep, err
		}
		if err := fiT.emit(FilterTrace, row); err != nil {
			return rep, err
		}
	}
	return rep, emitWrites(ofT, OfmapTrace, row)
}
