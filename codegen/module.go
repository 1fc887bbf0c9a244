package codegen

import (
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/constant"
	"github.com/llir/llvm/ir/enum"
	"github.com/llir/llvm/ir/types"
	"github.com/llir/llvm/ir/value"
	"github.com/vggsim/vggsim/codegen/emit"
	vir "github.com/vggsim/vggsim/ir"
)

// Module is the generated code of one graph: the plan, the LLVM module and its text.
type Module struct {
	Plan *Plan
	// LL is the module's LLVM assembly (typed pointers, LLVM 14 syntax).
	LL string
	// Functions lists the kernel functions defined, in definition order, with the steps
	// that call each.
	Functions []Function
	// Signature identifies the weights blob layout; the blob header carries it and
	// forward's callers compare it with vggsim_<sym>_weights_signature().
	Signature uint64
	// CSources are C files kernels added (emit.Module.AddCSource), compiled and linked
	// with the module into the library and the runner.
	CSources []emit.CSource
}

// Function is one kernel function of a module and the steps that call it.
type Function struct {
	Name   string
	Family string
	Calls  []string // step labels
}

// Prefix returns the exported symbols' prefix, "vggsim_<sym>_".
func (m *Module) Prefix() string { return "vggsim_" + m.Plan.Symbol + "_" }

// Generate plans g (see NewPlan) and emits its module: one function per distinct kernel,
// the exported forward and the size queries (docs/codegen.md has the C ABI).
func Generate(g *vir.Graph, opts Options) (*Module, error) {
	p, err := NewPlan(g, opts)
	if err != nil {
		return nil, err
	}
	return Emit(p), nil
}

// Emit writes the module of a plan.
func Emit(p *Plan) *Module {
	mod := &Module{Plan: p, Signature: signature(p)}
	m := emit.NewModule()
	g := p.Graph
	// Kernel functions, one per name, in first-call order.
	funcs := map[string]*ir.Func{}
	index := map[string]int{}
	for _, st := range p.Steps {
		name := st.Kernel.Name()
		if _, ok := funcs[name]; !ok {
			funcs[name] = st.Kernel.Define(m)
			index[name] = len(mod.Functions)
			mod.Functions = append(mod.Functions, Function{Name: name, Family: st.Kernel.Family()})
		}
		fn := &mod.Functions[index[name]]
		fn.Calls = append(fn.Calls, st.Label)
	}
	for _, fn := range mod.Functions {
		lines := []string{fmt.Sprintf("%s kernel, called by %d step(s):", fn.Family, len(fn.Calls))}
		for i, c := range fn.Calls {
			if i == 8 {
				lines = append(lines, fmt.Sprintf("  … and %d more", len(fn.Calls)-8))
				break
			}
			lines = append(lines, "  "+c)
		}
		m.Comment(fn.Name, lines...)
	}
	m.Header(
		fmt.Sprintf("vggsim: %s, input %s, output %s", g.Name, g.Input().Shape, g.Output.Shape),
		fmt.Sprintf("%d steps, %d kernel functions (below), scratch %d bytes, weights %d bytes", len(p.Steps), len(mod.Functions), p.ScratchBytes, p.WeightsBytes),
		"int vggsim_"+p.Symbol+"_forward(const float *in, float *out, int batch, const float *weights, float *scratch)",
		"",
	)

	emitForward(m, p, funcs)
	pre := "vggsim_" + p.Symbol + "_"
	for _, q := range []struct {
		name string
		v    int64
		doc  string
	}{
		{"weights_bytes", p.WeightsBytes, "bytes of the weights blob payload"},
		{"scratch_bytes", p.ScratchBytes, "bytes of scratch forward needs (any batch)"},
		{"input_elems", int64(p.InputElems()), "floats of one input image"},
		{"output_elems", int64(p.OutputElems()), "floats of one output image"},
		{"weights_signature", int64(mod.Signature), "the blob layout's signature"},
	} {
		f := m.M.NewFunc(pre+q.name, types.I64)
		f.FuncAttrs = append(f.FuncAttrs, enum.FuncAttrNoUnwind)
		f.NewBlock("entry").NewRet(constant.NewInt(types.I64, q.v))
		m.Comment(f.Name(), q.doc)
	}
	mod.LL = m.String()
	mod.CSources = m.CSources()
	return mod
}

// emitForward emits the exported forward: weight and buffer pointers once, then for each
// image the steps in order.
func emitForward(m *emit.Module, p *Plan, funcs map[string]*ir.Func) {
	in := ir.NewParam("in", emit.F32Ptr)
	out := ir.NewParam("out", emit.F32Ptr)
	batch := ir.NewParam("batch", types.I32)
	weights := ir.NewParam("weights", emit.F32Ptr)
	scratch := ir.NewParam("scratch", emit.F32Ptr)
	in.Attrs = append(in.Attrs, enum.ParamAttrReadOnly)
	weights.Attrs = append(weights.Attrs, enum.ParamAttrReadOnly)
	f := m.M.NewFunc("vggsim_"+p.Symbol+"_forward", types.I32, in, out, batch, weights, scratch)
	f.FuncAttrs = append(f.FuncAttrs, enum.FuncAttrNoUnwind)
	lines := []string{"the network, image by image; steps:"}
	for i, st := range p.Steps {
		lines = append(lines, fmt.Sprintf("  %3d %-40s %s", i, st.Label, st.Kernel.Name()))
	}
	m.Comment(f.Name(), lines...)

	entry := f.NewBlock("entry")
	fb := &emit.Func{F: f, B: entry}
	wptr := make([]value.Value, len(p.Weights))
	for i, w := range p.Weights {
		g := entry.NewGetElementPtr(types.Float, weights, fb.I64(int(w.Offset/4)))
		g.InBounds = true
		g.SetName("w." + w.Name)
		wptr[i] = g
	}
	bptr := make([]value.Value, len(p.Buffers))
	for i, b := range p.Buffers {
		g := entry.NewGetElementPtr(types.Float, scratch, fb.I64(int(b.Offset/4)))
		g.InBounds = true
		name := fmt.Sprintf("buf%d", i)
		if len(b.Values) > 0 {
			name = fmt.Sprintf("buf%d.%s", i, p.Graph.Values()[b.Values[0]].Producer.Name)
		}
		g.SetName(name)
		bptr[i] = g
	}
	bad := entry.NewICmp(enum.IPredSLT, batch, constant.NewInt(types.I32, 1))
	loop := f.NewBlock("image")
	fail := f.NewBlock("bad_batch")
	done := f.NewBlock("done")
	entry.NewCondBr(bad, fail, loop)
	fail.NewRet(constant.NewInt(types.I32, 1))
	done.NewRet(constant.NewInt(types.I32, 0))

	nb := loop.NewPhi(ir.NewIncoming(constant.NewInt(types.I32, 0), entry))
	nb.SetName("n")
	n64 := loop.NewSExt(nb, types.I64)
	x := loop.NewGetElementPtr(types.Float, in, loop.NewMul(n64, fb.I64(p.InputElems())))
	x.SetName("image.in")
	y := loop.NewGetElementPtr(types.Float, out, loop.NewMul(n64, fb.I64(p.OutputElems())))
	y.SetName("image.out")
	ptr := func(s Slot) value.Value {
		switch s.Buffer {
		case InputBuffer:
			return x
		case OutputBuffer:
			return y
		}
		return bptr[s.Buffer]
	}
	for _, st := range p.Steps {
		args := []value.Value{ptr(st.Out)}
		for _, s := range st.In {
			args = append(args, ptr(s))
		}
		for _, w := range st.Weights {
			args = append(args, wptr[w])
		}
		loop.NewCall(funcs[st.Kernel.Name()], args...)
	}
	next := loop.NewAdd(nb, constant.NewInt(types.I32, 1))
	nb.Incs = append(nb.Incs, ir.NewIncoming(next, loop))
	loop.NewCondBr(loop.NewICmp(enum.IPredSLT, next, batch), loop, done)
}

// signature hashes the blob layout (FNV-1a 64): symbol, then every entry's name, offset
// and length.
func signature(p *Plan) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "vggsim-weights-v1 %s %d\n", p.Symbol, p.WeightsBytes)
	for _, w := range p.Weights {
		fmt.Fprintf(h, "%s %d %d\n", w.Name, w.Offset, w.Floats)
	}
	return h.Sum64()
}

// Header returns the C header of the module's exported functions.
func (m *Module) Header() string {
	p := m.Plan
	pre := m.Prefix()
	up := strings.ToUpper(pre)
	in, out := p.Graph.Input().Shape, p.Graph.Output.Shape
	var b strings.Builder
	fmt.Fprintf(&b, `/* Generated by vggsim for %s. See docs/codegen.md. */
#ifndef %sH
#define %sH

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One image: input %s (C×H×W, NCHW float32), output %s. */
#define %sIN_C %d
#define %sIN_H %d
#define %sIN_W %d
#define %sOUT_C %d
#define %sOUT_H %d
#define %sOUT_W %d
#define %sWEIGHTS_BYTES %dull
#define %sSCRATCH_BYTES %dull
#define %sWEIGHTS_SIGNATURE 0x%016xull

/* Runs batch images: in holds batch×input_elems floats, out receives batch×output_elems.
   weights is the blob's payload (after its 64-byte header), 64-byte aligned;
   scratch holds scratch_bytes, 64-byte aligned, reused for every image.
   Returns 0, or 1 when batch < 1. */
int %sforward(const float *in, float *out, int batch, const float *weights, float *scratch);

size_t %sweights_bytes(void);     /* bytes of the blob payload */
size_t %sscratch_bytes(void);     /* bytes of scratch (independent of batch) */
size_t %sinput_elems(void);       /* floats of one input image */
size_t %soutput_elems(void);      /* floats of one output image */
uint64_t %sweights_signature(void); /* must equal the blob header's signature */

#ifdef __cplusplus
}
#endif
#endif
`, p.Graph.Name, up, up, in, out, up, in.C, up, in.H, up, in.W, up, out.C, up, out.H, up, out.W,
		up, p.WeightsBytes, up, p.ScratchBytes, up, m.Signature, pre, pre, pre, pre, pre, pre)
	return b.String()
}
