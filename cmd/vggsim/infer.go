package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/vggsim/vggsim/codegen"
	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/interp"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/tensor"
)

func cmdInfer(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("infer", "MODEL [--weights FILE] --input x.npy -o y.npy [--form train|deploy] [--input-size H[xW]] [--seed N] [--backend interp|llvm [--cc CLANG] [--cflags FLAGS]]",
		"Run MODEL on a float32 NCHW batch (or one CHW image) with the reference interpreter, or\n"+
			"with --backend llvm as native code generated through LLVM (compiled by clang, cached),\n"+
			"and write the output (logits [N, classes]) as .npy. The model's input size is the array's.", stdout, stderr)
	var mf modelFlags
	mf.register(fs, withForm|withWeights|withSeed)
	// The array fixes the input size; --input-size only states what the caller expects.
	fs.Lookup("input-size").Usage = "expected input size `H[xW]`; an error if x.npy's differs (default: x.npy's size)"
	in := fs.String("input", "", "input `x.npy`, float32 [N, C, H, W] or [C, H, W] (required)")
	out := fs.String("o", "", "output `y.npy` (required; - writes the .npy to stdout and the summary to stderr)")
	backend := fs.String("backend", "interp", "`executor`: interp (reference interpreter) or llvm (generated native code)")
	force := fs.Bool("force", false, "allow -o to overwrite --input")
	var tf toolFlags
	tf.register(fs)
	pos, code, ok := parseArgs(fs, args, 1, 1)
	if !ok {
		return code
	}
	if *in == "" || *out == "" {
		return usageError(fs, "--input and -o are required")
	}
	if *backend != "interp" && *backend != "llvm" {
		return fail(stderr, "infer", badInput(fmt.Errorf("--backend %q: want interp or llvm", *backend)))
	}
	var tc *codegen.Toolchain
	if *backend == "llvm" {
		var err error
		if tc, err = tf.toolchain(); err != nil {
			return fail(stderr, "infer", err)
		}
	}
	if err := refuseOverwrite(*out, *in, "--input", *force); err != nil {
		return fail(stderr, "infer", err)
	}
	summary := stdout
	if *out == stdoutPath {
		if err := binaryToStdout(stdout, "a binary .npy"); err != nil {
			return fail(stderr, "infer", err)
		}
		summary = stderr
	}
	x, err := readBatch(*in)
	if err != nil {
		return fail(stderr, "infer", err)
	}
	if !mf.allowNonFinite {
		if err := x.CheckFinite(""); err != nil {
			return fail(stderr, "infer", badInput(fmt.Errorf("%s: %w (pass --allow-nonfinite to use it anyway)", *in, err)))
		}
	}
	o, err := mf.options()
	if err != nil {
		return fail(stderr, "infer", badInput(err))
	}
	if o.InputH > 0 && (o.InputH != x.Shape[2] || o.InputW != x.Shape[3]) {
		return fail(stderr, "infer", badInput(fmt.Errorf("%s holds %dx%d images, --input-size says %dx%d", *in, x.Shape[2], x.Shape[3], o.InputH, o.InputW)))
	}
	o.InputH, o.InputW = x.Shape[2], x.Shape[3]
	bar, stderr := startProgress("infer", stderr)
	defer bar.Stop()
	mf.log = stderr
	bar.Stage("loading the model")
	g, err := mf.load(pos[0], o)
	if err != nil {
		return fail(stderr, "infer", err)
	}
	if c := g.Input().Shape.C; c != x.Shape[1] {
		return fail(stderr, "infer", badInput(fmt.Errorf("%s has %d channels, %s wants %d", *in, x.Shape[1], g.Name, c)))
	}
	if err := models.CheckBudget(g, x.Shape[0]); err != nil {
		return fail(stderr, "infer", badInput(err))
	}
	bar.Stage("running " + *backend)
	var y *tensor.Tensor
	if tc != nil {
		var opts codegen.Options
		if opts, err = tf.options(g, envThreads()); err != nil {
			return fail(stderr, "infer", err)
		}
		y, err = runNative(g, x, tc, opts)
	} else {
		y, err = interp.Run(g, x)
	}
	if err != nil {
		return fail(stderr, "infer", err)
	}
	if s := g.Output.Shape; s.H == 1 && s.W == 1 {
		y = interp.Flat2D(y)
	}
	bar.Stop()
	if *out == stdoutPath {
		err = npy.Write(stdout, y)
	} else {
		err = npy.WriteFile(*out, y)
	}
	if err != nil {
		return fail(stderr, "infer", err)
	}
	form := mf.form + " form"
	if *backend != "interp" {
		form += ", " + *backend
	}
	fmt.Fprintf(summary, "%s (%s): %s %v -> %s %v\n", g.Name, form, *in, x.Shape, *out, y.Shape)
	if len(y.Shape) == 2 {
		for n := range min(y.Shape[0], 8) {
			row := y.F32[n*y.Shape[1] : (n+1)*y.Shape[1]]
			best := 0
			for i, v := range row {
				if v > row[best] {
					best = i
				}
			}
			fmt.Fprintf(summary, "  image %d: top-1 class %d (logit %.4f)\n", n, best, row[best])
		}
	}
	return exitOK
}

// runNative compiles g (through the build cache) and runs it on x as a subprocess.
func runNative(g *ir.Graph, x *tensor.Tensor, tc *codegen.Toolchain, opts codegen.Options) (*tensor.Tensor, error) {
	c, err := codegen.Compile(g, opts, tc)
	if err != nil {
		return nil, codegenErr(err)
	}
	defer c.Close()
	y, err := c.Run(x)
	return y, codegenErr(err)
}

// readBatch reads a float32 .npy as an [N, C, H, W] batch; a [C, H, W] array is one image.
func readBatch(path string) (*tensor.Tensor, error) {
	x, err := npy.ReadFile(path)
	if err != nil {
		return nil, badInput(err)
	}
	if x.DType != tensor.Float32 {
		return nil, badInput(fmt.Errorf("%s: dtype %s, want float32", path, x.DType))
	}
	switch len(x.Shape) {
	case 3:
		x = tensor.FromF32(x.F32, 1, x.Shape[0], x.Shape[1], x.Shape[2])
	case 4:
	default:
		return nil, badInput(fmt.Errorf("%s: shape %v, want [N, C, H, W] or [C, H, W]", path, x.Shape))
	}
	if x.Len() == 0 {
		return nil, badInput(errors.New(path + ": empty array"))
	}
	return x, nil
}
