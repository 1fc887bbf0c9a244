package sim

// This file emulates SCALE-Sim v2's memory system in CALC mode (estimate-bandwidth mode):
// scalesim/memory/read_buffer_estimate_bw.py for the ifmap and filter SRAMs and
// scalesim/memory/write_buffer.py for the ofmap SRAM. Only the state that changes a reported
// number is kept; docs/simulator.md explains each rule.

// ssReadBWWords is the backing-store bandwidth SCALE-Sim assumes for the ifmap and filter
// buffers in CALC mode ("the number 10 elems per cycle is arbitrary").
const ssReadBWWords = 10

// ssSets is the number of address sets a read buffer is split into; half are active.
const ssSets = 100

// ssActiveSets is the number of sets in the active half (active_buf_frac = 0.5).
const ssActiveSets = ssSets / 2

// ssReadBuf emulates ReadBufferEstimateBw. SCALE-Sim groups the distinct addresses it sees into
// sets of floor(size/100) words; an address is a hit when it is already in one of the sets
// filled since the last prefetch (an epoch). When 50 sets are complete the epoch ends, their
// words are counted as DRAM reads and the buffer starts empty again. So DRAM reads are the sum,
// over epochs of 50·items distinct addresses, of the distinct addresses in each epoch.
type ssReadBuf struct {
	items    int64 // words per set: floor(total words / 100)
	capacity int64 // distinct words per epoch: 50 · items
	stamp    []uint32
	epoch    uint32
	cnt      int64 // distinct addresses in the current epoch
	total    int64 // words counted by completed epochs
	trans    int64 // completed epochs
	lastTr   int64 // cycle of the last epoch transition

	seen     bool
	firstCyc int64 // cycle of the first demand row with an address
	lastCyc  int64 // cycle of the last demand row with an address
}

// ssStamps is a reusable stamp array: stamps below next are stale, so a new read buffer can
// reuse the memory without clearing it by starting its epochs at next.
type ssStamps struct {
	s    []uint32
	next uint32
}

func newSSReadBuf(sramkB int, space int, st *ssStamps) *ssReadBuf {
	words := int64(sramkB) * 1024
	items := words / ssSets
	if len(st.s) < space || st.next > 1<<31 {
		st.s = make([]uint32, space)
		st.next = 1
	}
	return &ssReadBuf{
		items:    items,
		capacity: ssActiveSets * items,
		stamp:    st.s[:space],
		epoch:    st.next,
	}
}

// release returns the stamp array to its owner.
func (b *ssReadBuf) release(st *ssStamps) { st.next = b.epoch + 1 }

// row records that the demand row at cycle cyc held at least one address.
func (b *ssReadBuf) row(cyc int64) {
	if !b.seen {
		b.seen = true
		b.firstCyc = cyc
	}
	b.lastCyc = cyc
}

// access records one demand for address a at cycle cyc.
func (b *ssReadBuf) access(a int32, cyc int64) {
	if b.stamp[a] == b.epoch {
		return
	}
	b.stamp[a] = b.epoch
	b.cnt++
	if b.cnt == b.capacity {
		b.total += b.cnt
		b.cnt = 0
		b.epoch++
		b.trans++
		b.lastTr = cyc
	}
}

// sram returns the SRAM access window (serviced cycles = demand cycle + hit latency 1).
func (b *ssReadBuf) sram(count int64) ScaleSimAccess {
	return ScaleSimAccess{StartCycle: b.firstCyc + 1, StopCycle: b.lastCyc + 1, Count: count}
}

// dram returns the DRAM read window and count after the last demand (complete_all_prefetches).
// The DRAM trace rows are the prefetch cycles plus the read-port latency of 1.
func (b *ssReadBuf) dram() ScaleSimAccess {
	reads := b.total + b.cnt
	if b.trans == 0 {
		// One prefetch of all sets seen, ending at cycle -2 (-1 - latency), at 10 words/cycle.
		nsets := ceilDiv64(b.cnt, b.items)
		return ScaleSimAccess{StartCycle: -ceilDiv64(nsets*b.items, ssReadBWWords), StopCycle: -1, Count: reads}
	}
	// The first prefetch ends one latency before the first request and runs at 10 words/cycle;
	// the last trace row belongs to the window that closed at the last epoch transition.
	return ScaleSimAccess{
		StartCycle: b.firstCyc - ceilDiv64(b.capacity, ssReadBWWords),
		StopCycle:  b.lastTr + 1,
		Count:      reads,
	}
}

// ssWriteBuf emulates write_buffer.py with a write port of latency 0. Elements are appended to
// lines of ArrayWidth words; a drain is forced (closing the current, possibly partial, line)
// when free space drops below the active half and no drain is in flight. A drain writes up to
// ceil(drain half / width) lines, one line per cycle, and counts every slot of those lines as
// written except the empty slots of the last one (so padding inside earlier partial lines is
// counted, SCALE-Sim's final-drain rounding).
type ssWriteBuf struct {
	total, active, drainSize int64
	width                    int64
	linesPerDrain            int64

	free     int64
	lines    []int32 // valid words per line, from the first undrained line on
	lineIdx  int64   // words in the open line
	drainEnd int64   // cycle the in-flight drain ends

	accesses          int64
	seen              bool
	firstCyc, lastCyc int64 // cycles of the first and the last row of the DRAM write trace
	firstOut, lastOut int64
	outSeen           bool

	rec *ssWriteRec // the DRAM trace, when recorded
}

// ssWriteRec records the lines a write buffer drains, with their addresses, for the DRAM
// trace (ssWriteBuf keeps only their word counts).
type ssWriteRec struct {
	pending []int64   // addresses of the row being stored, in order
	open    []int64   // the open line's addresses
	lines   [][]int64 // closed lines not yet drained
	cycles  []int64   // drain cycle of each drained line, in order
	done    [][]int64 // drained lines, in order
}

func newSSWriteBuf(sramkB int, width int) *ssWriteBuf {
	total := int64(sramkB) * 1024
	active := ceilDiv64(total, 2) // ceil(total · 0.5)
	drain := total - active
	return &ssWriteBuf{
		total: total, active: active, drainSize: drain,
		width:         int64(width),
		linesPerDrain: ceilDiv64(drain, int64(width)),
		free:          total,
	}
}

func (w *ssWriteBuf) store() {
	w.lineIdx++
	w.free--
	if r := w.rec; r != nil {
		r.open, r.pending = append(r.open, r.pending[0]), r.pending[1:]
	}
	if w.lineIdx == w.width {
		w.lines = append(w.lines, int32(w.width))
		w.lineIdx = 0
		if r := w.rec; r != nil {
			r.lines, r.open = append(r.lines, r.open), nil
		}
	}
}

func (w *ssWriteBuf) force() {
	if w.lineIdx != 0 {
		w.lines = append(w.lines, int32(w.lineIdx))
		w.lineIdx = 0
		if r := w.rec; r != nil {
			r.lines, r.open = append(r.lines, r.open), nil
		}
	}
}

// drain empties up to linesPerDrain lines starting at cycle start and returns the cycle of the
// last line written.
func (w *ssWriteBuf) drain(start int64) int64 {
	n := min(w.linesPerDrain, int64(len(w.lines)))
	if n == 0 {
		return start
	}
	data := n*w.width - (w.width - int64(w.lines[n-1]))
	w.accesses += data
	end := start + n - 1
	if r := w.rec; r != nil {
		for i := range n {
			r.cycles, r.done = append(r.cycles, start+i), append(r.done, r.lines[i])
		}
		r.lines = r.lines[n:]
	}
	if !w.seen {
		w.seen = true
		w.firstCyc = start
	}
	w.lastCyc = end
	w.free += data
	w.lines = w.lines[n:]
	if len(w.lines) == 0 {
		w.lines = w.lines[:0:0]
	}
	return end
}

// serviceAddrs stores the words of one demand row (its addresses, -1 for an idle port) at
// cycle cyc, as serviceRow does, recording them for the DRAM trace.
func (w *ssWriteBuf) serviceAddrs(cyc int64, addrs []int64) int64 {
	r := w.rec
	r.pending = r.pending[:0]
	for _, a := range addrs {
		if a != -1 {
			r.pending = append(r.pending, a)
		}
	}
	return w.serviceRow(cyc, int64(len(r.pending)))
}

// serviceRow stores n words demanded at cycle cyc and returns the cycle the row completes.
func (w *ssWriteBuf) serviceRow(cyc int64, n int64) int64 {
	cur := cyc
	for range n {
		w.store()
		if cur < w.drainEnd {
			if w.free <= 0 {
				cur = w.drainEnd
			}
		} else if w.free < w.total-w.drainSize {
			w.force()
			w.drainEnd = w.drain(cur)
		}
	}
	if !w.outSeen {
		w.outSeen = true
		w.firstOut = cur
	}
	w.lastOut = cur
	return cur
}

// finish drains everything left, starting at cycle cyc (empty_all_buffers).
func (w *ssWriteBuf) finish(cyc int64) {
	w.force()
	for len(w.lines) > 0 {
		cyc = w.drain(cyc) + 1
	}
}

// dram returns the DRAM write window and count. SCALE-Sim reports the cycles of the first and
// the last row of its DRAM trace (write_buffer.get_external_access_start_stop_cycles reads
// cycles_vec[0] and cycles_vec[-1]), not the extremes: the final flush (empty_all_buffers)
// starts at the last demand cycle even while an earlier drain is still in flight, so its last
// line can come before that drain's end.
func (w *ssWriteBuf) dram() ScaleSimAccess {
	return ScaleSimAccess{StartCycle: w.firstCyc, StopCycle: w.lastCyc, Count: w.accesses}
}

func ceilDiv64(a, b int64) int64 {
	if b <= 0 {
		return 0
	}
	return (a + b - 1) / b
}
