package models

import (
	"fmt"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/onnx"
	"github.com/vggsim/vggsim/reparam"
)

// ResolveONNX imports the structure of the ONNX model at path (no tensor data is read; see
// onnx.Load). Its input size and class count are the file's, so opts may only repeat them.
// With opts.Deploy the result is reparam's deploy form of the imported graph (a plain
// export comes back unchanged).
func ResolveONNX(path string, opts Options) (*ir.Graph, error) {
	return importONNX(path, opts, true)
}

// LoadONNX is ResolveONNX with the model's weights as parameters.
func LoadONNX(path string, opts Options) (*ir.Graph, error) {
	return importONNX(path, opts, false)
}

func importONNX(path string, opts Options, structure bool) (*ir.Graph, error) {
	g, err := onnx.Load(path, onnx.Options{Structure: structure})
	if err != nil {
		return nil, err
	}
	in := g.Input().Shape
	if (opts.InputH > 0 && opts.InputH != in.H) || (opts.InputW > 0 && opts.InputW != in.W) {
		return nil, fmt.Errorf("%s: the model's input is %dx%d; an ONNX model's input size cannot be changed", path, in.H, in.W)
	}
	if opts.NumClasses > 0 && opts.NumClasses != g.Output.Shape.C {
		return nil, fmt.Errorf("%s: the model has %d outputs; an ONNX model's class count cannot be changed", path, g.Output.Shape.C)
	}
	if !opts.Deploy {
		return g, nil
	}
	if !structure {
		if err := reparam.CheckBatchNorm(g); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	d, err := reparam.Deploy(g, reparam.Options{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return d, nil
}
