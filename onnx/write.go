package onnx

import (
	"encoding/binary"
	"fmt"
	"github.com/vggsim/vggsim/internal/atomicfile"
	"math"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/tensor"
)

// ExportOpset is the opset Export writes (ONNX IR version 7): old enough for every runtime
// that matters, new enough for everything the IR holds.
const ExportOpset = 13

// Export converts g, with its parameters bound, to an ONNX model. Each node becomes one
// ONNX node of the same name whose output tensor is also named after it (the input is
// "input"); parameters become initializers under their state_dict keys. Add of three or
// more operands becomes Sum, Linear becomes Gemm (transB = 1; a Flatten named
// "<linear>/flatten" is inserted before a Linear whose operand is not already 2-D), and
// AdaptiveAvgPool becomes an AveragePool whose windows tile the input (so an input size
// the output size does not divide is an error). The batch dimension is symbolic ("N").
func Export(g *ir.Graph) (*Model, error) { return export(g, false) }

// export is Export; with structure set, parameters are not needed and initializers carry
// their dims only, marked external without a location (Options.Structure reads them back).
func export(g *ir.Graph, structure bool) (*Model, error) {
	if err := ir.Verify(g); err != nil {
		return nil, err
	}
	gp := &Graph{Name: g.Name}
	rank := map[*ir.Value]int{}
	names := map[*ir.Value]string{}
	used := map[string]bool{}
	for _, n := range g.Nodes {
		name := n.Name
		if n.Op == ir.Input {
			name = "input"
		}
		if used[name] {
			return nil, fmt.Errorf("onnx export: %s: name used twice", name)
		}
		used[name] = true
		names[n.Out] = name
	}
	ints := func(name string, v ...int64) *Attr { return &Attr{Name: name, Type: attrInts, Ints: v} }
	integer := func(name string, v int64) *Attr { return &Attr{Name: name, Type: attrInt, I: v} }
	for _, n := range g.Nodes {
		if n.Op == ir.Input {
			s := n.Out.Shape
			gp.Inputs = append(gp.Inputs, &ValueInfo{Name: "input", ElemType: dtFloat,
				Dims: []int64{-1, int64(s.C), int64(s.H), int64(s.W)}, DimNames: []string{"N", "", "", ""}})
			rank[n.Out] = 4
			continue
		}
		node := &Node{Name: n.Name, Outputs: []string{names[n.Out]}}
		for _, in := range n.In {
			node.Inputs = append(node.Inputs, names[in])
		}
		r := rank[n.In[0]]
		a := n.Attrs
		switch n.Op {
		case ir.Conv:
			node.OpType = "Conv"
			node.Attrs = []*Attr{ints("dilations", 1, 1), integer("group", int64(a.Groups)),
				ints("kernel_shape", int64(a.KH), int64(a.KW)), ints("pads", int64(a.Pad), int64(a.Pad), int64(a.Pad), int64(a.Pad)),
				ints("strides", int64(a.Stride), int64(a.Stride))}
		case ir.BatchNorm:
			node.OpType = "BatchNormalization"
			node.Attrs = []*Attr{{Name: "epsilon", Type: attrFloat, F: float32(a.Eps)}}
		case ir.ReLU:
			node.OpType = "Relu"
		case ir.ReLU6:
			// ReLU6 is Clip(x, 0, 6); since opset 11 the bounds are inputs (scalars),
			// written with their values even in a structure-only export.
			node.OpType = "Clip"
			for _, b := range []struct {
				suffix string
				v      float32
			}{{"/min", 0}, {"/max", 6}} {
				key := n.Name + b.suffix
				if used[key] {
					return nil, fmt.Errorf("onnx export: %s: name used twice", key)
				}
				used[key] = true
				node.Inputs = append(node.Inputs, key)
				gp.Initializers = append(gp.Initializers, floatTensor(key, []float32{b.v}, nil))
			}
		case ir.Sigmoid:
			node.OpType = "Sigmoid"
		case ir.Mul:
			node.OpType = "Mul"
		case ir.Add:
			node.OpType = "Add"
			if len(n.In) > 2 {
				node.OpType = "Sum"
			}
		case ir.MaxPool:
			node.OpType = "MaxPool"
			node.Attrs = []*Attr{ints("kernel_shape", int64(a.KH), int64(a.KW)),
				ints("pads", int64(a.Pad), int64(a.Pad), int64(a.Pad), int64(a.Pad)), ints("strides", int64(a.Stride), int64(a.Stride))}
		case ir.GlobalAvgPool:
			node.OpType = "GlobalAveragePool"
		case ir.AdaptiveAvgPool:
			in := n.In[0].Shape
			if in.H%a.OutH != 0 || in.W%a.OutW != 0 {
				return nil, fmt.Errorf("onnx export: %s: adaptive pooling of %dx%d to %dx%d has unequal windows, which no ONNX operator expresses", n.Name, in.H, in.W, a.OutH, a.OutW)
			}
			kh, kw := int64(in.H/a.OutH), int64(in.W/a.OutW)
			node.OpType = "AveragePool"
			node.Attrs = []*Attr{ints("kernel_shape", kh, kw), ints("strides", kh, kw)}
		case ir.Flatten:
			node.OpType = "Flatten"
			node.Attrs = []*Attr{integer("axis", 1)}
			r = 2
		case ir.Linear:
			if r != 2 {
				flat := n.Name + "/flatten"
				if used[flat] {
					return nil, fmt.Errorf("onnx export: %s: name used twice", flat)
				}
				used[flat] = true
				gp.Nodes = append(gp.Nodes, &Node{Name: flat, OpType: "Flatten", Inputs: node.Inputs, Outputs: []string{flat}, Attrs: []*Attr{integer("axis", 1)}})
				node.Inputs = []string{flat}
			}
			node.OpType = "Gemm"
			node.Attrs = []*Attr{{Name: "alpha", Type: attrFloat, F: 1}, {Name: "beta", Type: attrFloat, F: 1}, integer("transB", 1)}
			r = 2
		default:
			return nil, fmt.Errorf("onnx export: %s: operator %s has no ONNX form", n.Name, n.Op)
		}
		rank[n.Out] = r
		for _, spec := range n.ParamSpecs() {
			if spec.DType != tensor.Float32 {
				continue // num_batches_tracked: training state, not part of inference
			}
			key := n.Key(spec.Name)
			if structure {
				if used[key] {
					return nil, fmt.Errorf("onnx export: %s: name used twice", key)
				}
				used[key] = true
				node.Inputs = append(node.Inputs, key)
				t := &Tensor{Name: key, DataType: dtFloat, Location: 1}
				for _, d := range spec.Shape {
					t.Dims = append(t.Dims, int64(d))
				}
				gp.Initializers = append(gp.Initializers, t)
				continue
			}
			t := n.Params[spec.Name]
			if t == nil {
				if spec.Optional {
					continue
				}
				return nil, fmt.Errorf("onnx export: %s has no %s; bind weights first", n.Name, spec.Name)
			}
			if t.DType != tensor.Float32 || len(t.F32) != tensor.Numel(spec.Shape) {
				return nil, fmt.Errorf("onnx export: %s: %s is not a float32 tensor of shape %v", n.Name, spec.Name, spec.Shape)
			}
			if used[key] {
				return nil, fmt.Errorf("onnx export: %s: name used twice", key)
			}
			used[key] = true
			node.Inputs = append(node.Inputs, key)
			gp.Initializers = append(gp.Initializers, floatTensor(key, t.F32, spec.Shape))
		}
		gp.Nodes = append(gp.Nodes, node)
	}
	s := g.Output.Shape
	out := &ValueInfo{Name: names[g.Output], ElemType: dtFloat, Dims: []int64{-1, int64(s.C), int64(s.H), int64(s.W)}, DimNames: []string{"N", "", "", ""}}
	if rank[g.Output] == 2 {
		out.Dims, out.DimNames = out.Dims[:2], out.DimNames[:2]
	}
	gp.Outputs = []*ValueInfo{out}
	return &Model{IRVersion: 7, ProducerName: "vggsim", Opsets: []OpsetID{{Version: ExportOpset}}, Graph: gp}, nil
}

func floatTensor(name string, data []float32, shape []int) *Tensor {
	t := &Tensor{Name: name, DataType: dtFloat, Raw: make([]byte, 4*len(data))}
	for _, d := range shape {
		t.Dims = append(t.Dims, int64(d))
	}
	for i, f := range data {
		binary.LittleEndian.PutUint32(t.Raw[4*i:], math.Float32bits(f))
	}
	return t
}

// Encode returns the serialized ONNX model of g (see Export).
func Encode(g *ir.Graph) ([]byte, error) {
	m, err := Export(g)
	if err != nil {
		return nil, err
	}
	return m.Marshal(), nil
}

// Save writes the ONNX model of g to path (see Export), through a temporary file renamed
// into place so that a failed write leaves no partial model.
func Save(path string, g *ir.Graph) error {
	b, err := Encode(g)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, b)
}
