// Command onnxcheck writes, for each zoo model named on the command line, the train and
// deploy forms with seeded weights as ONNX files plus an input batch and interp's outputs
// (.npy), for check.mjs to run under ONNX Runtime. Used by `make onnx-check`, not by tests.
//
//	go run ./tools/onnxcheck -o DIR [-input 64] RepVGG-A0 ResNet-18 ...
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vggsim/vggsim/internal/npy"
	"github.com/vggsim/vggsim/interp"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/onnx"
	"github.com/vggsim/vggsim/reparam"
	"github.com/vggsim/vggsim/tensor"
)

func main() {
	dir := flag.String("o", "onnxcheck", "output directory")
	size := flag.Int("input", 64, "input size")
	flag.Parse()
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fail(err)
	}
	for _, name := range flag.Args() {
		g, err := models.Resolve(name, models.Options{InputH: *size})
		if err != nil {
			fail(err)
		}
		models.InitWeights(g, 1)
		d, err := reparam.Deploy(g, reparam.Options{})
		if err != nil {
			fail(err)
		}
		s := g.Input().Shape
		x := tensor.New(2, s.C, s.H, s.W)
		for i := range x.F32 {
			x.F32[i] = float32((i*7919)%2001-1000) / 1000
		}
		for form, m := range map[string]*ir.Graph{"train": g, "deploy": d} {
			base := filepath.Join(*dir, filepath.Base(name)+"."+form)
			if err := onnx.Save(base+".onnx", m); err != nil {
				fail(err)
			}
			y, err := interp.Run(m, x)
			if err != nil {
				fail(err)
			}
			if err := npy.WriteFile(base+".input.npy", x); err != nil {
				fail(err)
			}
			if err := npy.WriteFile(base+".output.npy", interp.Flat2D(y)); err != nil {
				fail(err)
			}
			fmt.Println(base + ".onnx")
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "onnxcheck:", err)
	os.Exit(1)
}
