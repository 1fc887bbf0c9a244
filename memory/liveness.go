package memory

import (
	"errors"
	"fmt"
	"github.com/vggsim/vggsim/sim"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/lower"
	"github.com/vggsim/vggsim/tensor"
)

// DefaultBits is the data width Options.Bits defaults to: int8, the width of the default
// hardware preset.
const DefaultBits = 8

// Options selects the data width, the batch and the reuse rules of an analysis.
type Options struct {
	Bits  int // activation and weight width in bits; 0 means DefaultBits
	Batch int // images per run; every activation holds Batch images; 0 means 1

	// NoInPlace disables in-place reuse: every node but Flatten gets a buffer of its own.
	NoInPlace bool

	// Align rounds every buffer's arena offset and size up to a multiple of Align bytes
	// (DMA alignment); 0 or 1 means byte granularity. It changes ArenaBytes only.
	Align int64

	// Objective is what the native engine's mapper minimizes in Report.Simulate (latency by
	// default).
	Objective sim.Objective
}

func (o Options) withDefaults() (Options, error) {
	if o.Bits == 0 {
		o.Bits = DefaultBits
	}
	if o.Batch == 0 {
		o.Batch = 1
	}
	if o.Align == 0 {
		o.Align = 1
	}
	var errs []error
	if o.Bits < 1 || o.Bits > 64 {
		errs = append(errs, fmt.Errorf("bits %d out of range 1..64", o.Bits))
	}
	if o.Batch < 1 {
		errs = append(errs, fmt.Errorf("batch %d must be positive", o.Batch))
	}
	if o.Align < 1 {
		errs = append(errs, fmt.Errorf("align %d must be positive", o.Align))
	}
	return o, errors.Join(errs...)
}

// bytesOf returns the storage of elems elements at bits per element for batch images,
// rounded up to whole bytes.
func bytesOf(elems int64, batch, bits int) int64 {
	return (elems*int64(batch)*int64(bits) + 7) / 8
}

// Buffer is one block of activation storage: the value that created it and every value that
// reuses its storage (in-place elementwise results, Flatten views). A buffer is live from
// Start (the step defining its first value) to End (the last step reading any of its
// values; the last step for the buffer holding the graph output), both inclusive.
type Buffer struct {
	ID     int   `json:"id"`
	Values []int `json:"values"` // value IDs stored here, in definition order
	Bytes  int64 `json:"bytes"`  // size for the whole batch
	Start  int   `json:"start"`
	End    int   `json:"end"`
	Offset int64 `json:"offset"` // arena offset assigned by the planner

	// Input and Output report whether the buffer holds the graph input or output.
	Input  bool `json:"input,omitempty"`
	Output bool `json:"output,omitempty"`
}

// Step is one node of the schedule (the graph's node order) with the memory live around it.
type Step struct {
	Node     string   `json:"node"`
	Op       string   `json:"op"`
	Shape    ir.Shape `json:"-"`
	OutBytes int64    `json:"out_bytes"` // the node's result, whole batch
	Buffer   int      `json:"buffer"`    // the buffer holding the result
	// InPlace reports whether the result reuses an operand's buffer (an in-place
	// elementwise op, or a Flatten view).
	InPlace bool `json:"in_place"`
	// LiveBytes is the working set: every buffer with Start ≤ step ≤ End, which includes the
	// node's operands and its result at the same time.
	LiveBytes int64 `json:"live_bytes"`
	// ResidentBytes is the paper-style count: every buffer defined at or before the step
	// and still needed after it (the graph output counts to the end). The node's operands
	// that die here are not counted; its result is, as if it replaced them.
	ResidentBytes int64 `json:"resident_bytes"`
	Live          []int `json:"live"` // IDs of the buffers counted in LiveBytes
}

// liveness is the schedule-level analysis shared by the report, the arena planner and the
// spill model.
type liveness struct {
	g        *ir.Graph
	opts     Options
	stepOf   []int   // value ID → defining step
	lastUse  []int   // value ID → last reading step (n-1 for the graph output)
	readers  [][]int // value ID → distinct reading steps, ascending
	bufOf    []int   // value ID → buffer ID
	valBytes []int64 // value ID → bytes (whole batch)
	buffers  []Buffer
	steps    []Step
	groups   []lower.Group // the graph's accelerator layers, computed on first lowering
}

// inPlaceOperands returns how many of n's leading operands its result may take the buffer
// of: 0 unless n is an elementwise op (see doc.go, "Schedule and buffers").
func inPlaceOperands(n *ir.Node) int {
	switch n.Op {
	case ir.ReLU, ir.ReLU6, ir.BatchNorm, ir.Sigmoid:
		return 1
	case ir.Add:
		return len(n.In)
	case ir.Mul:
		return 1 // only x; the broadcast scale s never has the result's shape in general
	}
	return 0
}

// unaryElementwise reports whether op is a one-operand elementwise op that an accelerator's
// post-processing stage applies to a result on its way out (see Traffic).
func unaryElementwise(op ir.Op) bool {
	return op == ir.ReLU || op == ir.ReLU6 || op == ir.BatchNorm || op == ir.Sigmoid
}

func analyzeLiveness(g *ir.Graph, opts Options) (*liveness, error) {
	if g == nil || len(g.Nodes) == 0 {
		return nil, errors.New("memory: empty graph")
	}
	if g.Nodes[0].Op != ir.Input {
		return nil, fmt.Errorf("memory: graph %q: first node %s is not the input", g.Name, g.Nodes[0].Name)
	}
	if g.Output == nil {
		return nil, fmt.Errorf("memory: graph %q has no output", g.Name)
	}
	n := len(g.Nodes)
	lv := &liveness{g: g, opts: opts}
	nv := 0
	for _, nd := range g.Nodes {
		if nd.Out == nil {
			return nil, fmt.Errorf("memory: graph %q: node %s has no result", g.Name, nd.Name)
		}
		nv = max(nv, nd.Out.ID+1)
	}
	lv.stepOf = make([]int, nv)
	for i := range lv.stepOf {
		lv.stepOf[i] = -1
	}
	for i, nd := range g.Nodes {
		if nd.Out.ID < 0 || lv.stepOf[nd.Out.ID] >= 0 {
			return nil, fmt.Errorf("memory: graph %q: node %s: bad or duplicate value id %d", g.Name, nd.Name, nd.Out.ID)
		}
		lv.stepOf[nd.Out.ID] = i
	}
	lv.lastUse = make([]int, nv)
	lv.readers = make([][]int, nv)
	lv.valBytes = make([]int64, nv)
	for i, nd := range g.Nodes {
		lv.lastUse[nd.Out.ID] = i
		lv.valBytes[nd.Out.ID] = bytesOf(int64(nd.Out.Shape.Elems()), opts.Batch, opts.Bits)
		for _, in := range nd.In {
			if in == nil || in.ID < 0 || in.ID >= nv || lv.stepOf[in.ID] < 0 || lv.stepOf[in.ID] >= i {
				return nil, fmt.Errorf("memory: graph %q: node %s reads a value not defined before it (the node order must be topological)", g.Name, nd.Name)
			}
			lv.lastUse[in.ID] = i
			if r := lv.readers[in.ID]; len(r) == 0 || r[len(r)-1] != i {
				lv.readers[in.ID] = append(r, i)
			}
		}
	}
	out := g.Output.ID
	if out < 0 || out >= nv || lv.stepOf[out] < 0 {
		return nil, fmt.Errorf("memory: graph %q: output is not a node's result", g.Name)
	}
	lv.lastUse[out] = n - 1

	// Buffer assignment in schedule order. A buffer's End is the running maximum of the
	// last uses of the values assigned to it; values assigned later start at or after the
	// step that assigns them, so "End == i" means nothing in the buffer is read after i.
	lv.bufOf = make([]int, nv)
	lv.steps = make([]Step, n)
	for i, nd := range g.Nodes {
		v := nd.Out
		b := -1
		inPlace := false
		switch {
		case nd.Op == ir.Flatten:
			b, inPlace = lv.bufOf[nd.In[0].ID], true
		case !opts.NoInPlace:
			for k := range inPlaceOperands(nd) {
				x := nd.In[k]
				xb := lv.bufOf[x.ID]
				if x.Shape == v.Shape && lv.buffers[xb].End == i && !lv.buffers[xb].Output {
					b, inPlace = xb, true
					break
				}
			}
		}
		if b < 0 {
			b = len(lv.buffers)
			lv.buffers = append(lv.buffers, Buffer{ID: b, Bytes: lv.valBytes[v.ID], Start: i, End: i})
		}
		buf := &lv.buffers[b]
		buf.Values = append(buf.Values, v.ID)
		buf.End = max(buf.End, lv.lastUse[v.ID])
		if nd.Op == ir.Input {
			buf.Input = true
		}
		if v.ID == out {
			buf.Output = true
		}
		lv.bufOf[v.ID] = b
		lv.steps[i] = Step{Node: nd.Name, Op: nd.Op.String(), Shape: v.Shape, OutBytes: lv.valBytes[v.ID], Buffer: b, InPlace: inPlace}
	}

	// Working set and resident bytes per step by difference arrays; live lists by a sweep.
	live := make([]int64, n+1)
	res := make([]int64, n+1)
	for _, b := range lv.buffers {
		live[b.Start] += b.Bytes
		live[b.End+1] -= b.Bytes
		if b.Output || b.End == b.Start {
			res[b.Start] += b.Bytes
			res[b.End+1] -= b.Bytes
		} else {
			res[b.Start] += b.Bytes
			res[b.End] -= b.Bytes
		}
	}
	startAt := make([][]int, n)
	for _, b := range lv.buffers {
		startAt[b.Start] = append(startAt[b.Start], b.ID)
	}
	var active []int
	var lsum, rsum int64
	for i := range lv.steps {
		lsum += live[i]
		rsum += res[i]
		active = append(active, startAt[i]...)
		st := &lv.steps[i]
		st.LiveBytes, st.ResidentBytes = lsum, rsum
		st.Live = append([]int(nil), active...)
		k := 0
		for _, id := range active {
			if lv.buffers[id].End > i {
				active[k] = id
				k++
			}
		}
		active = active[:k]
	}
	return lv, nil
}

// weightsBytes returns the bytes of every float parameter and statistic of g at bits per
// element: conv and linear weights and biases, BatchNorm gamma, beta, running mean and
// running variance (an inference of the train form needs all four). BatchNorm's
// num_batches_tracked counter is not stored. Weights do not scale with the batch.
func weightsBytes(g *ir.Graph, bits int) int64 {
	var elems int64
	for _, n := range g.Nodes {
		elems += weightElems(n)
	}
	return bytesOf(elems, 1, bits)
}

// weightElems returns the float parameters and statistics of n (see weightsBytes).
func weightElems(n *ir.Node) int64 {
	var elems int64
	for _, s := range n.ParamSpecs() {
		if s.DType == tensor.Float32 {
			elems += int64(tensor.Numel(s.Shape))
		}
	}
	return elems
}
