package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/vggsim/vggsim/checkpoint"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/onnx"
	"github.com/vggsim/vggsim/reparam"
)

func cmdFuse(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fuse", "MODEL --weights train.pth -o deploy.(safetensors|npz|pth|onnx) [--names reference|timm]",
		`Re-parameterize MODEL's train-form checkpoint into deploy weights under the reference
deploy names (stage1.0.rbr_reparam.weight, …, linear.*; for ResNets the conv names with
the BN folded in), or timm's (stages.0.0.reparam_conv.weight, …, head.fc.*) with
--names timm. The checkpoint may use either naming. A .pth output loads in PyTorch with
torch.load and load_state_dict(strict=True) into a deploy=True reference model; a .onnx
output is the whole deploy model for ONNX Runtime or TensorRT. The fused tensors equal the
reference's conversion bit for bit. A MODEL.onnx in train form needs no --weights.`, stdout, stderr)
	var mf modelFlags
	mf.register(fs, withWeights)
	fs.Lookup("weights").Usage = "train-form checkpoint `file` (.pth, .safetensors, .npz; reference or timm names) (required unless MODEL is .onnx)"
	out := fs.String("o", "", "output `file`: .safetensors, .npz, .pth or .onnx (required)")
	force := fs.Bool("force", false, "allow -o to overwrite --weights")
	namesArg := fs.String("names", "reference", "state_dict `naming` of the output: reference or timm (RepVGG only)")
	pos, code, ok := parseArgs(fs, args, 1, 1)
	if !ok {
		return code
	}
	isONNX := onnx.IsPath(pos[0])
	if (mf.weights == "" && !isONNX) || *out == "" {
		return usageError(fs, "--weights and -o are required")
	}
	if err := noStdout("-o", *out, "fuse writes a checkpoint whose format comes from the file name (.safetensors, .npz, .pth, .onnx)"); err != nil {
		return fail(stderr, "fuse", err)
	}
	if err := refuseOverwrite(*out, mf.weights, "--weights", *force); err != nil {
		return fail(stderr, "fuse", err)
	}
	names, err := models.ParseNaming(*namesArg)
	if err != nil {
		return fail(stderr, "fuse", badInput(fmt.Errorf("--names: %w", err)))
	}
	outONNX := onnx.IsPath(*out)
	switch strings.ToLower(filepath.Ext(*out)) {
	case ".pth", ".pt", ".bin", ".safetensors", ".npz", ".onnx":
	default:
		return fail(stderr, "fuse", badInput(fmt.Errorf("-o %s: unknown extension; want .safetensors, .npz, .pth or .onnx", *out)))
	}
	if outONNX && names != models.NamesReference {
		return fail(stderr, "fuse", badInput(fmt.Errorf("--names %s: applies to checkpoint outputs, not to .onnx (ONNX keeps the reference names)", names)))
	}
	o, err := mf.options()
	if err != nil {
		return fail(stderr, "fuse", badInput(err))
	}
	bar, stderr := startProgress("fuse", stderr)
	defer bar.Stop()
	bar.Stage("reading " + cmp.Or(mf.weights, pos[0]))
	var g *ir.Graph
	var trainKeys int
	if mf.weights == "" { // MODEL.onnx with its own weights
		if g, err = models.LoadONNX(pos[0], o); err != nil {
			return fail(stderr, "fuse", badInput(err))
		}
		if err := reparam.CheckBatchNorm(g); err != nil {
			return fail(stderr, "fuse", badInput(fmt.Errorf("%s: %w", pos[0], err)))
		}
		keys, _ := models.Unbind(g)
		trainKeys = len(keys)
	} else {
		sd, err := checkpoint.Load(mf.weights)
		if err != nil {
			return fail(stderr, "fuse", badInput(err))
		}
		if err := mf.checkFinite(mf.weights, sd); err != nil {
			return fail(stderr, "fuse", err)
		}
		if r, bn := models.FormKeys(sd.Keys); r != "" && bn != "" {
			return fail(stderr, "fuse", badInput(fmt.Errorf("%s mixes deploy-form keys (%s) with train-form ones (%s)", mf.weights, r, bn)))
		}
		var deploy bool
		g, deploy, err = bindForm(pos[0], o, sd, mf.weights)
		if err != nil {
			return fail(stderr, "fuse", err)
		}
		if deploy {
			return fail(stderr, "fuse", badInput(fmt.Errorf("%s is already a deploy-form checkpoint (%s); nothing to fuse: use it directly with --form deploy", mf.weights, models.FusedReason(sd.Keys))))
		}
		trainKeys = len(sd.Keys)
	}
	// From here on only g holds the train tensors (sd is dead), and Deploy drops each one
	// once it is fused, so the collector can reclaim them while later blocks are fused.
	trainParams := g.Params()
	bar.Stage("fusing")
	d, err := reparam.Deploy(g, reparam.Options{})
	if err != nil {
		return fail(stderr, "fuse", badInput(fmt.Errorf("%s: %w", cmp.Or(mf.weights, pos[0]), err)))
	}
	keys, tensors := models.Unbind(d)
	if names == models.NamesTimm {
		for _, k := range keys {
			if _, ok := models.TimmKey(k); !ok {
				return fail(stderr, "fuse", badInput(fmt.Errorf("--names timm: %s has no timm name (timm naming is for RepVGG models)", k)))
			}
		}
		if keys, tensors, err = models.Rename(keys, tensors, models.TimmKey); err != nil {
			return fail(stderr, "fuse", err)
		}
	}
	bar.Stage("writing " + *out)
	if outONNX {
		err = onnx.Save(*out, d)
	} else {
		err = checkpoint.Save(*out, &checkpoint.StateDict{Keys: keys, Tensors: tensors})
	}
	if err != nil {
		return fail(stderr, "fuse", err)
	}
	bar.Stop()
	plain := ""
	if ok, _ := ir.IsPlain(d); ok {
		plain = ", plain"
	}
	what := "deploy tensors"
	if outONNX {
		what = "deploy tensors as ONNX"
	}
	fmt.Fprintf(stdout, "%s: fused %d train tensors (%d parameters); wrote %d %s (%d parameters%s) to %s\n",
		d.Name, trainKeys, trainParams, len(keys), what, d.Params(), plain, *out)
	return exitOK
}

// bindForm builds MODEL and binds the checkpoint sd (read from source) to the form it fits
// (models.BindForm); every failure is bad input, a binding one prefixed with source.
func bindForm(arg string, o models.Options, sd *checkpoint.StateDict, source string) (*ir.Graph, bool, error) {
	g, deploy, err := models.BindForm(arg, o, sd.Keys, sd.Tensors)
	var fe *models.FormError
	if errors.As(err, &fe) {
		return nil, false, badInput(fmt.Errorf("%s: %w", source, err))
	}
	if err != nil {
		return nil, false, badInput(err)
	}
	return g, deploy, nil
}
