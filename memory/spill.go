package memory

import (
	"cmp"
	"slices"

	"github.com/vggsim/vggsim/internal/geom"
	"github.com/vggsim/vggsim/ir"
)

// Traffic is the activation traffic between the chip and DRAM for one run (one batch) when
// the on-chip activation SRAM holds SRAMBytes. Weights are not included (see
// Report.WeightsBytes and the hardware costs).
type Traffic struct {
	SRAMBytes  int64 `json:"sram_bytes"`
	ReadBytes  int64 `json:"dram_read_bytes"`  // activation bytes read from DRAM
	WriteBytes int64 `json:"dram_write_bytes"` // activation bytes written to DRAM
	// SpilledBuffers and SpilledBytes count the buffers that go off chip although keeping
	// them would save traffic (buffers whose streaming is free, like the graph input read
	// by one node, are not counted).
	SpilledBuffers int   `json:"spilled_buffers"`
	SpilledBytes   int64 `json:"spilled_bytes"`
	// Exact reports whether the residency choice is optimal for the model (it is unless
	// more than maxLive buffers are live at once or the search was pruned; see spill.go).
	Exact bool `json:"exact"`
}

// Bytes returns the total activation traffic, reads plus writes.
func (t Traffic) Bytes() int64 { return t.ReadBytes + t.WriteBytes }

// bufCost is a buffer's DRAM traffic when it stays on chip for its whole life (res) and
// when it does not (sp), as reads and writes.
type bufCost struct {
	resR, resW int64
	spR, spW   int64
}

func (c bufCost) res() int64 { return c.resR + c.resW }
func (c bufCost) sp() int64  { return c.spR + c.spW }

// elided reports whether value v is never materialized in memory: a compute op's result
// whose only reader is a unary elementwise op (ReLU, BatchNorm, Sigmoid), which the
// accelerator applies in its output stage before anything is stored.
func (lv *liveness) elided(v int) bool {
	p := lv.g.Nodes[lv.stepOf[v]]
	if p.Op == ir.Input || p.Op == ir.Flatten || v == lv.g.Output.ID {
		return false
	}
	r := lv.readers[v]
	return len(r) == 1 && unaryElementwise(lv.g.Nodes[r[0]].Op)
}

// readBytes returns the bytes node step reads of value v from DRAM when v is off chip: all
// of it, except that Flatten reads nothing (a view) and a convolution reads only the rows
// and columns its windows touch (a 1x1 stride-2 projection reads a quarter), as the
// simulator counts them.
func (lv *liveness) readBytes(v, step int) int64 {
	n := lv.g.Nodes[step]
	switch n.Op {
	case ir.Flatten:
		return 0
	case ir.Conv:
		a := n.Attrs
		in, out := n.In[0].Shape, n.Out.Shape
		th := geom.Touched(in.H, a.KH, a.Stride, a.Pad, out.H)
		tw := geom.Touched(in.W, a.KW, a.Stride, a.Pad, out.W)
		return bytesOf(th*tw*int64(in.C), lv.opts.Batch, lv.opts.Bits)
	}
	return lv.valBytes[v]
}

// costs returns every buffer's resident and spilled traffic (see doc.go, "Spill model").
func (lv *liveness) costs() []bufCost {
	cs := make([]bufCost, len(lv.buffers))
	out := lv.g.Output.ID
	for i, b := range lv.buffers {
		c := &cs[i]
		for _, v := range b.Values {
			bytes := lv.valBytes[v]
			op := lv.g.Nodes[lv.stepOf[v]].Op
			el := lv.elided(v)
			if op == ir.Input {
				c.resR += bytes // staged on chip once
			}
			if v == out {
				c.resW += bytes // written back once at the end
			}
			if op != ir.Input && op != ir.Flatten && !el {
				c.spW += bytes
			}
			if el {
				continue // its single reader is fused into the producer
			}
			for _, r := range lv.readers[v] {
				c.spR += lv.readBytes(v, r)
			}
		}
	}
	return cs
}

// maxStates bounds the residency search; beyond it the cheapest states are kept and the
// result is marked inexact.
const maxStates = 1 << 12

type spillState struct {
	mask     uint64 // bit k set: the buffer in slot k is resident
	resBytes int64  // bytes of resident live buffers
	r, w     int64
	nSpill   int
	spBytes  int64
	resident *decision // the buffers chosen resident so far
}

// decision is a persistent list of resident buffer IDs.
type decision struct {
	buf  int
	prev *decision
}

// traffic returns the least activation traffic with an SRAM of s bytes, choosing for every
// buffer whether it stays on chip for its whole life or streams through DRAM, subject to
// the resident buffers live at every step fitting in s. It is a dynamic program over the
// schedule whose state is the set of resident live buffers: exact, and so non-increasing
// in s.
func (lv *liveness) traffic(cs []bufCost, s int64) Traffic {
	t, _ := lv.residency(cs, s)
	return t
}

// residency is traffic that also returns, per buffer, whether the best choice keeps it on
// chip.
func (lv *liveness) residency(cs []bufCost, s int64) (Traffic, []bool) {
	t := Traffic{SRAMBytes: s, Exact: true}
	n := len(lv.steps)
	born := make([][]int, n)
	for i, b := range lv.buffers {
		c := cs[i]
		if c.sp() <= c.res() {
			t.ReadBytes += c.spR
			t.WriteBytes += c.spW
			continue
		}
		born[b.Start] = append(born[b.Start], i)
	}
	var slots []int // slot → buffer ID, -1 free
	states := []spillState{{}}
	var next []spillState
	index := make(map[uint64]int)
	for step := 0; step < n; step++ {
		for _, id := range born[step] {
			slot := slices.Index(slots, -1)
			if slot < 0 {
				slot = len(slots)
				slots = append(slots, -1)
			}
			c, bytes := cs[id], lv.buffers[id].Bytes
			if slot >= 64 {
				// Too many live candidates to track: stream this one.
				t.Exact = false
				for k := range states {
					st := &states[k]
					st.r, st.w, st.nSpill, st.spBytes = st.r+c.spR, st.w+c.spW, st.nSpill+1, st.spBytes+bytes
				}
				continue
			}
			slots[slot] = id
			next = next[:0]
			for _, st := range states {
				sp := st
				sp.r, sp.w, sp.nSpill, sp.spBytes = st.r+c.spR, st.w+c.spW, st.nSpill+1, st.spBytes+bytes
				next = append(next, sp)
				if st.resBytes+bytes <= s {
					rs := st
					rs.mask |= 1 << slot
					rs.resBytes += bytes
					rs.r, rs.w = st.r+c.resR, st.w+c.resW
					rs.resident = &decision{id, st.resident}
					next = append(next, rs)
				}
			}
			states, next = next, states
			if len(states) > maxStates {
				slices.SortFunc(states, cmpCost)
				states = states[:maxStates]
				t.Exact = false
			}
		}
		// Buffers that die at this step leave the state; states that become equal merge.
		died := false
		for slot, id := range slots {
			if id >= 0 && lv.buffers[id].End == step {
				bit := uint64(1) << slot
				bytes := lv.buffers[id].Bytes
				for k := range states {
					if states[k].mask&bit != 0 {
						states[k].mask &^= bit
						states[k].resBytes -= bytes
					}
				}
				slots[slot] = -1
				died = true
			}
		}
		if died && len(states) > 1 {
			clear(index)
			next = next[:0]
			for _, st := range states {
				if k, ok := index[st.mask]; ok {
					if cmpCost(st, next[k]) < 0 {
						next[k] = st
					}
					continue
				}
				index[st.mask] = len(next)
				next = append(next, st)
			}
			states, next = next, states
		}
	}
	best := states[0]
	for _, st := range states[1:] {
		if cmpCost(st, best) < 0 {
			best = st
		}
	}
	t.ReadBytes += best.r
	t.WriteBytes += best.w
	t.SpilledBuffers, t.SpilledBytes = best.nSpill, best.spBytes
	res := make([]bool, len(lv.buffers))
	for d := best.resident; d != nil; d = d.prev {
		res[d.buf] = true
	}
	return t, res
}

// cmpCost orders states by total traffic, then by fewer spilled bytes.
func cmpCost(a, b spillState) int {
	return cmp.Or(cmp.Compare(a.r+a.w, b.r+b.w), cmp.Compare(a.spBytes, b.spBytes))
}

// minSRAMNoSpill returns the smallest SRAM at which traffic equals the compulsory traffic:
// the peak, over steps, of the live buffers that must stay on chip (streaming them costs
// more than keeping them).
func (lv *liveness) minSRAMNoSpill(cs []bufCost) int64 {
	n := len(lv.steps)
	d := make([]int64, n+1)
	for i, b := range lv.buffers {
		if cs[i].sp() > cs[i].res() {
			d[b.Start] += b.Bytes
			d[b.End+1] -= b.Bytes
		}
	}
	var sum, peak int64
	for i := range n {
		sum += d[i]
		peak = max(peak, sum)
	}
	return peak
}
