package codegen

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/vggsim/vggsim/codegen/emit"
	"github.com/vggsim/vggsim/codegen/kern"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/lower"
	"github.com/vggsim/vggsim/memory"
)

// Align is the byte alignment of every scratch buffer and every weight array.
const Align = 64

// Options configures code generation.
type Options struct {
	// Families are asked, in order, for each step's kernel before the generic family
	// (which handles every op in any layout). Nil means DefaultFamilies().
	Families []emit.Family
	// Symbol is the C identifier prefix of the exported functions
	// (vggsim_<Symbol>_forward, …); empty means SymbolOf(g.Name).
	Symbol string
}

// DefaultFamilies returns the kernel families tried before the generic one. Fast kernel
// families register here: the register-tiled direct convolutions of codegen/kern.
func DefaultFamilies() []emit.Family { return []emit.Family{kern.Family{}} }

// Slot.Buffer values of the caller's arrays: the input image (read in place unless an
// in-place op reuses its storage) and the output image.
const (
	InputBuffer  = -1
	OutputBuffer = -2
)

// Slot is where one operand or result of a step lives: a scratch buffer (or the caller's
// input) in a layout.
type Slot struct {
	Buffer int         // index in Plan.Buffers, or InputBuffer
	Layout emit.Layout // how the image is stored
	Shape  ir.Shape    // the value's per-image shape
	Value  int         // the IR value ID stored (−1 for a reorder temporary)
}

// Step is one call in the forward function.
type Step struct {
	// Nodes are the IR nodes the step computes: one node, or a conv and the ReLU fused
	// into it. Empty for a reorder or a copy.
	Nodes  []*ir.Node
	Kernel emit.Kernel
	In     []Slot
	Out    Slot
	// Weights are indices into Plan.Weights, in the order the kernel reads them.
	Weights []int
	// Label describes the step in comments ("stage1.0.rbr_reparam+relu", "reorder …").
	Label string
}

// Buffer is one block of the scratch arena.
type Buffer struct {
	Bytes  int64 // size (a multiple of Align)
	Offset int64 // byte offset in the arena
	Start  int   // first and last graph step (node index) it is live at
	End    int
	Values []int // IR value IDs stored in it (none for a reorder temporary)
}

// WeightEntry is one array of the weights blob.
type WeightEntry struct {
	Name   string // node name and array, e.g. "stage0.rbr_reparam.weight"
	Offset int64  // byte offset in the blob's payload (a multiple of Align)
	Floats int    // element count
	step   int    // the step whose kernel produces it
	index  int    // which of the kernel's arrays
}

// Plan is the schedule of one graph: steps with their kernels, the scratch arena and the
// weights blob layout. The forward function runs the steps in order for every image.
type Plan struct {
	Graph   *ir.Graph
	Symbol  string
	Steps   []Step
	Buffers []Buffer
	// ScratchBytes is the arena size: the scratch the caller passes to forward.
	ScratchBytes int64
	// Weights lays out the blob payload; WeightsBytes is its size.
	Weights      []WeightEntry
	WeightsBytes int64
	// InputCopy reports whether the input is copied into the arena first (when an
	// in-place op reuses its storage); otherwise the caller's input is read directly.
	InputCopy bool
	// Output is where the graph output is left; the last step copies it to the caller.
	Output Slot
	// Memory is the liveness analysis the arena reuses (float32, batch 1).
	Memory *memory.Report
}

// Error is a graph that cannot be compiled: the node and why.
type Error struct {
	Node string
	Msg  string
}

func (e *Error) Error() string {
	if e.Node == "" {
		return "codegen: " + e.Msg
	}
	return fmt.Sprintf("codegen: node %s: %s", e.Node, e.Msg)
}

// SymbolOf turns a model name into a C identifier: lower case, runs of other characters
// as one underscore ("RepVGG-A0" → "repvgg_a0").
func SymbolOf(name string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			under = false
		} else if !under && b.Len() > 0 {
			b.WriteByte('_')
			under = true
		}
	}
	s := strings.TrimRight(b.String(), "_")
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		s = "m_" + s
	}
	return s
}

// NewPlan schedules g: it checks the graph, fuses each conv or linear with a ReLU or ReLU6
// that is its only reader (lower.Groups, the simulator's grouping), asks the families for a kernel per step (inserting reorders where a
// kernel wants an operand in another layout), plans the scratch arena from memory's
// liveness analysis with layout-sized buffers, and lays out the weights blob. g needs
// parameters.
func NewPlan(g *ir.Graph, opts Options) (*Plan, error) {
	if g == nil {
		return nil, errors.New("codegen: nil graph")
	}
	for _, n := range g.Nodes {
		if strings.HasPrefix(n.Op.String(), "op(") {
			return nil, &Error{n.Name, fmt.Sprintf("unsupported op %s", n.Op)}
		}
	}
	if err := ir.Verify(g); err != nil {
		return nil, fmt.Errorf("codegen: %w", err)
	}
	fams := opts.Families
	if fams == nil {
		fams = DefaultFamilies()
	}
	fams = append(append([]emit.Family(nil), fams...), Generic{})
	sym := opts.Symbol
	if sym == "" {
		sym = SymbolOf(g.Name)
	}
	rep, err := memory.Analyze(g, memory.Options{Bits: 32, Batch: 1})
	if err != nil {
		return nil, fmt.Errorf("codegen: %w", err)
	}
	p := &Plan{Graph: g, Symbol: sym, Memory: rep}
	nv := len(g.Nodes)
	bufOf := make([]int, nv)
	for i, st := range rep.Steps {
		bufOf[g.Nodes[i].Out.ID] = st.Buffer
	}

	// Grouping is lower's (the simulator's layers): a Conv or Linear whose only reader is
	// a ReLU or ReLU6 computes both; every other op is a step of its own.
	groups, err := lower.Groups(g)
	if err != nil {
		return nil, fmt.Errorf("codegen: %w", err)
	}
	fusedInto := make(map[*ir.Node]*ir.Node) // conv or linear → its activation
	skip := make(map[*ir.Node]bool)
	for _, gr := range groups {
		if gr.ReLU >= 0 {
			r := g.Nodes[gr.ReLU]
			fusedInto[g.Nodes[gr.Step]] = r
			skip[r] = true
		}
	}

	// Values that must be NCHW: Flatten operands with a spatial extent, and backwards
	// through the elementwise ops (which keep their operand's layout) producing them.
	mustPlain := make([]bool, nv)
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		n := g.Nodes[i]
		if n.Op == ir.Flatten && (n.In[0].Shape.H > 1 || n.In[0].Shape.W > 1) {
			mustPlain[n.In[0].ID] = true
		}
		if mustPlain[n.Out.ID] && elementwise(n.Op) {
			mustPlain[n.In[0].ID] = true
			if n.Op == ir.Add {
				for _, x := range n.In {
					mustPlain[x.ID] = true
				}
			}
		}
		if r := fusedInto[n]; r != nil && mustPlain[r.Out.ID] {
			mustPlain[n.Out.ID] = true
		}
	}

	resOf := residualFusions(g, fusedInto, bufOf, mustPlain)

	// Buffers start as memory's; reorder temporaries are appended.
	for _, b := range rep.Buffers {
		p.Buffers = append(p.Buffers, Buffer{Start: b.Start, End: b.End, Values: append([]int(nil), b.Values...)})
	}
	layout := make([]emit.Layout, nv)
	laid := make([]bool, nv)
	inBuf := bufOf[g.Input().ID]
	p.InputCopy = len(rep.Buffers[inBuf].Values) > 1
	slotOf := func(v *ir.Value) Slot {
		b := bufOf[v.ID]
		if v == g.Input() && !p.InputCopy {
			b = InputBuffer
		}
		return Slot{Buffer: b, Layout: layout[v.ID], Shape: v.Shape, Value: v.ID}
	}
	laid[g.Input().ID] = true
	if p.InputCopy {
		in := g.Input()
		p.Steps = append(p.Steps, Step{
			Kernel: &reorderKernel{shape: in.Shape, from: emit.NCHW, to: emit.NCHW},
			In:     []Slot{{Buffer: InputBuffer, Shape: in.Shape, Value: in.ID}},
			Out:    slotOf(in),
			Label:  "copy the input into the arena",
		})
	}

	for i, n := range g.Nodes {
		if n.Op == ir.Input || skip[n] {
			continue
		}
		if n.Op == ir.Flatten {
			x := n.In[0]
			if !layout[x.ID].Same(emit.NCHW, x.Shape) {
				return nil, &Error{n.Name, fmt.Sprintf("flatten of a %s value", layout[x.ID])}
			}
			layout[n.Out.ID], laid[n.Out.ID] = emit.NCHW, true
			continue
		}
		res := n.Out // the value the step writes
		act := emit.ActNone
		nodes := []*ir.Node{n}
		label := n.Name
		if r := fusedInto[n]; r != nil {
			res, act = r.Out, activationOf(r.Op)
			nodes = append(nodes, r)
			label += "+" + act.String()
			if b := &p.Buffers[bufOf[res.ID]]; b.Start > i {
				b.Start = i // the conv writes the ReLU's storage at its own step
			}
		}
		req := emit.Request{Node: n, Act: act}
		for _, x := range n.In {
			req.Have = append(req.Have, layout[x.ID])
		}
		// A result stored in place of an operand keeps that operand's layout.
		fixOut := func(req *emit.Request, res *ir.Value) error {
			for _, vid := range p.Buffers[bufOf[res.ID]].Values {
				if vid != res.ID && vid != n.Out.ID && laid[vid] {
					req.Out, req.OutFixed = layout[vid], true
				}
			}
			if mustPlain[res.ID] {
				if req.OutFixed && !req.Out.Plain() {
					return &Error{n.Name, "result must be NCHW but shares storage with a blocked value"}
				}
				req.Out, req.OutFixed = emit.NCHW, true
			}
			return nil
		}
		var k emit.Kernel
		operands := n.In
		if f := resOf[n]; f != nil {
			// The residual add (and its activation) fused into this conv's store, if a
			// family takes it: a kernel with one more operand.
			rreq := req
			rreq.Have = append(append([]emit.Layout(nil), req.Have...), layout[f.other.ID])
			rreq.Residual, rreq.Act = true, f.actKind()
			if err := fixOut(&rreq, f.result()); err != nil {
				return nil, err
			}
			for _, fam := range fams {
				c, ok := fam.Choose(rreq).(emit.ResidualKernel)
				if ok && c.FusesResidual() && len(c.In()) == len(n.In)+1 && (!rreq.OutFixed || c.Out() == rreq.Out) {
					k, req = c, rreq
					break
				}
			}
			if k != nil {
				res = f.result()
				nodes, label = append(nodes, f.nodes()...), label+"+"+f.label()
				operands = append(append([]*ir.Value(nil), n.In...), f.other)
				for _, x := range f.nodes() {
					skip[x] = true
					layout[x.Out.ID], laid[x.Out.ID] = k.Out(), true
				}
				if b := &p.Buffers[bufOf[res.ID]]; b.Start > i {
					b.Start = i // the conv writes the add's (or its ReLU's) storage at its own step
				}
			}
		}
		if k == nil {
			if err := fixOut(&req, res); err != nil {
				return nil, err
			}
			for _, f := range fams {
				if k = f.Choose(req); k != nil {
					break
				}
			}
		}
		if k == nil {
			return nil, &Error{n.Name, fmt.Sprintf("unsupported op %s", n.Op)}
		}
		if req.OutFixed && k.Out() != req.Out {
			return nil, &Error{n.Name, fmt.Sprintf("kernel %s writes %s, the plan needs %s", k.Name(), k.Out(), req.Out)}
		}
		if len(k.In()) != len(operands) {
			return nil, &Error{n.Name, fmt.Sprintf("kernel %s takes %d operands, the node has %d", k.Name(), len(k.In()), len(operands))}
		}
		st := Step{Nodes: nodes, Kernel: k, Label: label}
		for j, x := range operands {
			s := slotOf(x)
			if want := k.In()[j]; !s.Layout.Same(want, x.Shape) {
				s = p.reorder(s, want, i, fmt.Sprintf("%s operand %d", n.Name, j))
			}
			st.In = append(st.In, s)
		}
		layout[res.ID], laid[res.ID] = k.Out(), true
		if res != n.Out {
			layout[n.Out.ID], laid[n.Out.ID] = k.Out(), true
		}
		st.Out = slotOf(res)
		if err := p.addWeights(&st); err != nil {
			return nil, err
		}
		p.Steps = append(p.Steps, st)
	}
	p.Output = slotOf(g.Output)
	p.Steps = append(p.Steps, Step{
		Kernel: &reorderKernel{shape: g.Output.Shape, from: p.Output.Layout, to: emit.NCHW},
		In:     []Slot{p.Output},
		Out:    Slot{Buffer: OutputBuffer, Shape: g.Output.Shape, Value: g.Output.ID},
		Label:  "copy the output to the caller",
	})

	// Buffer sizes: the largest value stored, in its layout.
	for bi := range p.Buffers {
		b := &p.Buffers[bi]
		for _, vid := range b.Values {
			v := g.Values()[vid]
			if vid == g.Input().ID && !p.InputCopy {
				continue
			}
			b.Bytes = max(b.Bytes, roundUp(int64(layout[vid].Elems(v.Shape))*4))
		}
	}
	mb := make([]memory.Buffer, len(p.Buffers))
	for i, b := range p.Buffers {
		mb[i] = memory.Buffer{ID: i, Bytes: b.Bytes, Start: b.Start, End: b.End}
	}
	p.ScratchBytes = memory.PlanArena(mb, Align)
	for i := range p.Buffers {
		p.Buffers[i].Offset = mb[i].Offset
	}
	return p, nil
}

// reorder appends a temporary holding s in layout want, written just before step i, and
// the step that fills it; it returns the temporary's slot.
func (p *Plan) reorder(s Slot, want emit.Layout, i int, what string) Slot {
	b := len(p.Buffers)
	p.Buffers = append(p.Buffers, Buffer{Bytes: roundUp(int64(want.Elems(s.Shape)) * 4), Start: i, End: i})
	t := Slot{Buffer: b, Layout: want, Shape: s.Shape, Value: -1}
	p.Steps = append(p.Steps, Step{
		Kernel: &reorderKernel{shape: s.Shape, from: s.Layout, to: want},
		In:     []Slot{s}, Out: t,
		Label: fmt.Sprintf("reorder %s to %s for %s", s.Layout, want, what),
	})
	return t
}

// addWeights lays out the arrays of st's kernel in the blob.
func (p *Plan) addWeights(st *Step) error {
	ws, err := st.Kernel.Weights()
	if err != nil {
		return fmt.Errorf("codegen: %w", err)
	}
	base := st.Nodes[0].Name
	for j, w := range ws {
		e := WeightEntry{Name: fmt.Sprintf("%s.%d", base, j), Offset: p.WeightsBytes, Floats: len(w), step: len(p.Steps), index: j}
		if names := weightNames(st.Nodes[0]); j < len(names) {
			e.Name = base + "." + names[j]
		}
		st.Weights = append(st.Weights, len(p.Weights))
		p.Weights = append(p.Weights, e)
		p.WeightsBytes += roundUp(int64(len(w)) * 4)
	}
	return nil
}

// weightNames names a generic kernel's arrays for the blob table.
func weightNames(n *ir.Node) []string {
	switch n.Op {
	case ir.Conv:
		if n.Attrs.Bias {
			return []string{"weight", "bias"}
		}
		return []string{"weight"}
	case ir.Linear:
		return []string{"weight", "bias"}
	case ir.BatchNorm:
		return []string{"scale", "shift"}
	}
	return nil
}

func roundUp(b int64) int64 { return (b + Align - 1) / Align * Align }

// InputElems returns the floats of one input image; OutputElems of one output.
func (p *Plan) InputElems() int { return p.Graph.Input().Shape.Elems() }

// OutputElems returns the floats of one image's output (NCHW).
func (p *Plan) OutputElems() int { return p.Graph.Output.Shape.Elems() }

// Format writes the plan as a table: every step with its kernel, family, layouts and
// storage (scratch offsets, "in"/"out" for the caller's arrays), then the totals.
func (p *Plan) Format(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tCOMPUTES\tKERNEL\tFAMILY\tIN\tOUT\tWEIGHTS")
	where := func(s Slot) string {
		switch s.Buffer {
		case InputBuffer:
			return "in:" + s.Layout.String()
		case OutputBuffer:
			return "out:" + s.Layout.String()
		}
		return fmt.Sprintf("@%d:%s", p.Buffers[s.Buffer].Offset, s.Layout)
	}
	for i, st := range p.Steps {
		var ins []string
		for _, s := range st.In {
			ins = append(ins, where(s))
		}
		var wb int64
		for _, wi := range st.Weights {
			wb += int64(p.Weights[wi].Floats) * 4
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\n", i, st.Label, st.Kernel.Name(), st.Kernel.Family(),
			strings.Join(ins, " "), where(st.Out), wb)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d steps; scratch %d bytes in %d buffers; weights %d bytes in %d arrays\n",
		len(p.Steps), p.ScratchBytes, len(p.Buffers), p.WeightsBytes, len(p.Weights))
	return err
}

// residualFusion is a residual add whose later operand is a conv's result read by nothing
// else: the conv's kernel may compute ReLU(conv(x) + other) in its store (oneDNN's sum
// post-op), and the add (and act, the ReLU or ReLU6 that is the add's only reader) then
// need no pass over memory.
type residualFusion struct {
	add, act *ir.Node
	other    *ir.Value // the add's other operand, computed before the conv
}

func (f *residualFusion) result() *ir.Value {
	if f.act != nil {
		return f.act.Out
	}
	return f.add.Out
}

func (f *residualFusion) actKind() emit.Activation {
	if f.act != nil {
		return activationOf(f.act.Op)
	}
	return emit.ActNone
}

func (f *residualFusion) nodes() []*ir.Node {
	if f.act != nil {
		return []*ir.Node{f.add, f.act}
	}
	return []*ir.Node{f.add}
}

func (f *residualFusion) label() string {
	if f.act != nil {
		return "add+" + activationOf(f.act.Op).String()
	}
	return "add"
}

// residualFusions finds, for every two-operand Add of same-shaped values, the conv that
// produces its later operand (in graph order, so the other is ready when the conv runs)
// when the add is that result's only reader and the conv has no activation of its own.
// It declines when the fused result would be stored in the conv's own input (an add in
// place of a conv operand: the conv would overwrite what it still reads) or must be NCHW.
func residualFusions(g *ir.Graph, fusedInto map[*ir.Node]*ir.Node, bufOf []int, mustPlain []bool) map[*ir.Node]*residualFusion {
	users := g.Users()
	prod := make(map[*ir.Value]int, len(g.Nodes))
	for i, n := range g.Nodes {
		prod[n.Out] = i
	}
	out := map[*ir.Node]*residualFusion{}
	for _, a := range g.Nodes {
		if a.Op != ir.Add || len(a.In) != 2 || a.In[0] == a.In[1] ||
			a.In[0].Shape != a.Out.Shape || a.In[1].Shape != a.Out.Shape {
			continue
		}
		j := 0
		if prod[a.In[1]] > prod[a.In[0]] {
			j = 1
		}
		v, other := a.In[j], a.In[1-j]
		pv, ok := prod[v]
		if !ok {
			continue // the graph's input: no conv to fuse into
		}
		n := g.Nodes[pv]
		if n.Op != ir.Conv || len(users[v.ID]) != 1 || v == g.Output || fusedInto[n] != nil {
			continue
		}
		f := &residualFusion{add: a, other: other}
		if u := users[a.Out.ID]; len(u) == 1 && a.Out != g.Output && activationOf(u[0].Op) != emit.ActNone {
			f.act = u[0]
		}
		res := f.result()
		clash := mustPlain[res.ID]
		for _, x := range n.In {
			clash = clash || bufOf[res.ID] == bufOf[x.ID]
		}
		if !clash {
			out[n] = f
		}
	}
	return out
}
