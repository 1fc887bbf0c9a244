package main

import (
	"fmt"
	"io"

	"github.com/vggsim/vggsim/checkpoint"
	"github.com/vggsim/vggsim/models"
)

func cmdFuse(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fuse", "MODEL --weights train.pth -o deploy.(safetensors|npz|pth)",
		"Re-parameterize MODEL's train-form checkpoint into deploy weights under the reference\ndeploy names (stage1.0.rbr_reparam.weight, …, linear.*). A .pth output loads in PyTorch\nwith torch.load and load_state_dict(strict=True) into a deploy=True reference model.", stderr)
	var mf modelFlags
	mf.register(fs, true)
	out := fs.String("o", "", "output `file`: .safetensors, .npz or .pth (required)")
	pos, code, ok := parseArgs(fs, args, 1, 1)
	if !ok {
		return code
	}
	if mf.weights == "" || *out == "" {
		fmt.Fprintln(stderr, "vggsim fuse: --weights and -o are required")
		fs.Usage()
		return exitUsage
	}
	mf.form = "deploy"
	o, err := mf.options()
	if err != nil {
		return fail(stderr, "fuse", badInput(err))
	}
	g, err := mf.load(pos[0], o)
	if err != nil {
		return fail(stderr, "fuse", err)
	}
	keys, tensors := models.Unbind(g)
	sd := &checkpoint.StateDict{Keys: keys, Tensors: tensors}
	if err := checkpoint.Save(*out, sd); err != nil {
		return fail(stderr, "fuse", err)
	}
	fmt.Fprintf(stdout, "%s: wrote %d deploy tensors (%d parameters) to %s\n", g.Name, len(keys), g.Params(), *out)
	return exitOK
}
