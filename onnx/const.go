package onnx

import (
	"encoding/binary"

	"github.com/vggsim/vggsim/tensor"
)

type tensorT = tensor.Tensor

func newTensor(data []float32, shape ...int) *tensor.Tensor { return tensor.FromF32(data, shape...) }

func numel(shape []int) int { return tensor.Numel(shape) }

// maxShapeConst bounds the integer constants the importer folds (shape arithmetic only).
const maxShapeConst = 64

// ints returns the values of a small integer constant.
func (im *importer) ints(k *konst) ([]int64, error) {
	if k.isInt {
		return k.ints, nil
	}
	t := k.t
	n, err := t.numel(maxShapeConst)
	if err != nil {
		return nil, im.unsupported("constant %s: %v", t.Name, err)
	}
	switch {
	case t.DataType == dtInt64 && t.Raw != nil && int64(len(t.Raw)) == 8*n:
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(binary.LittleEndian.Uint64(t.Raw[8*i:]))
		}
		return v, nil
	case t.DataType == dtInt64 && int64(len(t.Int64s)) == n:
		return t.Int64s, nil
	case t.DataType == dtInt32 && t.Raw != nil && int64(len(t.Raw)) == 4*n:
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(int32(binary.LittleEndian.Uint32(t.Raw[4*i:])))
		}
		return v, nil
	case t.DataType == dtInt32 && int64(len(t.Int32s)) == n:
		return t.Int32s, nil
	}
	return nil, im.unsupported("constant %s: want an int64 tensor of at most %d elements with its data inline", t.Name, maxShapeConst)
}

// constOp folds the shape computations PyTorch emits for x.view(x.size(0), -1): Constant,
// Shape, Gather, Unsqueeze, Squeeze and Concat over small integer tensors. A batch
// dimension folds to 0, which Reshape reads as "keep the input's dimension".
func (im *importer) constOp() error {
	n := im.node
	if len(n.Outputs) != 1 {
		return im.unsupported("want one output")
	}
	var out *konst
	switch n.OpType {
	case "Constant":
		if a := n.attr("value"); a != nil && a.T != nil {
			out = &konst{t: a.T, dims: a.T.Dims}
		} else if a := n.attr("value_int"); a != nil {
			out = &konst{isInt: true, ints: []int64{a.I}}
		} else if a := n.attr("value_ints"); a != nil {
			out = &konst{isInt: true, ints: a.Ints, dims: []int64{int64(len(a.Ints))}}
		} else {
			return im.unsupported("only tensor and integer constants are supported")
		}
	case "Shape":
		x, err := im.in(0)
		if err != nil {
			return err
		}
		s := x.v.Shape
		dims := []int64{0, int64(s.C), int64(s.H), int64(s.W)}
		if x.rank == 2 {
			dims = dims[:2]
		}
		start, end := n.attrInt("start", 0), n.attrInt("end", int64(len(dims)))
		r := int64(len(dims))
		if start < 0 {
			start += r
		}
		if end < 0 {
			end += r
		}
		start, end = min(max(start, 0), r), min(max(end, 0), r)
		if start > end {
			start = end
		}
		dims = dims[start:end]
		out = &konst{isInt: true, ints: dims, dims: []int64{int64(len(dims))}}
	default:
		var args []*konst
		var vals [][]int64
		for i := range n.Inputs {
			k, err := im.konstIn(i)
			if err != nil {
				return err
			}
			if k == nil {
				args, vals = append(args, nil), append(vals, nil)
				continue
			}
			v, err := im.ints(k)
			if err != nil {
				return err
			}
			args, vals = append(args, k), append(vals, v)
		}
		if len(args) == 0 || args[0] == nil {
			return im.unsupported("input 0 is missing")
		}
		rank := len(args[0].dims)
		switch n.OpType {
		case "Gather":
			if len(args) != 2 || args[1] == nil || rank != 1 || n.attrInt("axis", 0) != 0 || len(args[1].dims) > 1 {
				return im.unsupported("only gathers from a 1-D shape are supported")
			}
			var res []int64
			for _, i := range vals[1] {
				if i < 0 {
					i += int64(len(vals[0]))
				}
				if i < 0 || i >= int64(len(vals[0])) {
					return im.unsupported("index %d out of range", i)
				}
				res = append(res, vals[0][i])
			}
			out = &konst{isInt: true, ints: res}
			if len(args[1].dims) == 1 {
				out.dims = []int64{int64(len(res))}
			}
		case "Unsqueeze", "Squeeze":
			axes := n.attrInts("axes")
			if len(args) > 1 && args[1] != nil {
				axes = vals[1]
			}
			newRank := rank + len(axes)
			if n.OpType == "Squeeze" {
				newRank = rank - len(axes)
			}
			if newRank > 1 || newRank < 0 || len(vals[0]) > 1 && newRank == 0 {
				return im.unsupported("only scalars and 1-D shapes are supported")
			}
			out = &konst{isInt: true, ints: vals[0]}
			if newRank == 1 {
				out.dims = []int64{int64(len(vals[0]))}
			}
		case "Concat":
			var res []int64
			for i, a := range args {
				if a == nil || len(a.dims) != 1 {
					return im.unsupported("only concatenations of 1-D shapes are supported")
				}
				res = append(res, vals[i]...)
			}
			if len(res) > maxShapeConst {
				return im.unsupported("more than %d values", maxShapeConst)
			}
			out = &konst{isInt: true, ints: res, dims: []int64{int64(len(res))}}
		}
	}
	im.consts[n.Outputs[0]] = out
	return nil
}
