package main

import (
	"io"
	"strings"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/reparam"
)

func cmdShow(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("show", "MODEL [--form train|deploy] [--dump-after PASS] [--input-size H[xW]] [--classes N]",
		"Print MODEL's graph in the IR text form. --dump-after prints the graph after the named\nre-parameterization pass ("+strings.Join(reparam.PassNames(), ", ")+") instead.", stdout, stderr)
	var mf modelFlags
	mf.register(fs, withForm)
	dump := fs.String("dump-after", "", "print the IR after this reparam `pass`")
	pos, code, ok := parseArgs(fs, args, 1, 1)
	if !ok {
		return code
	}
	if *dump != "" {
		mf.form = "train"
	}
	g, err := mf.structure(pos[0])
	if err != nil {
		return fail(stderr, "show", err)
	}
	if *dump != "" {
		if _, err := reparam.Deploy(g, reparam.Options{DumpAfter: *dump, Dump: stdout, StopAfter: *dump}); err != nil {
			return fail(stderr, "show", badInput(err))
		}
		return exitOK
	}
	if err := ir.Print(stdout, g); err != nil {
		return fail(stderr, "show", err)
	}
	return exitOK
}
