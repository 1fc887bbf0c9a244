// Command export writes one model, its weights, an input and the reference logits in the
// plain files the peer baselines in bench/ read:
//
//	DIR/model.ir     the graph in ir's text form (see ir.Print)
//	DIR/weights.bin  float32 little-endian parameters, node by node in graph order, each
//	                 node's float32 parameters in ParamSpecs order (int64 ones skipped)
//	DIR/input.bin    float32 [1, C, H, W] seeded uniform [-1, 1) input
//	DIR/logits.bin   float32 logits of interp on input.bin (the reference every peer must match)
//
// Usage: go run ./bench/export MODEL [--form deploy|train] [--seed N] [--input-size H] -o DIR
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/vggsim/vggsim/internal/atomicfile"
	"github.com/vggsim/vggsim/interp"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/reparam"
	"github.com/vggsim/vggsim/tensor"
)

func main() {
	fs := flag.NewFlagSet("export", flag.ExitOnError)
	form := fs.String("form", "deploy", "model form: deploy or train")
	seed := fs.Uint64("seed", 1, "weight and input seed")
	size := fs.Int("input-size", 224, "input height and width")
	out := fs.String("o", "", "output directory (required)")
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: export MODEL [--form deploy|train] [--seed N] [--input-size H] -o DIR")
		os.Exit(2)
	}
	_ = fs.Parse(os.Args[2:])
	if *out == "" || (*form != "deploy" && *form != "train") {
		fmt.Fprintln(os.Stderr, "export: -o is required and --form must be deploy or train")
		os.Exit(2)
	}
	if err := run(os.Args[1], *form, *seed, *size, *out); err != nil {
		fmt.Fprintln(os.Stderr, "export:", err)
		os.Exit(1)
	}
}

func run(model, form string, seed uint64, size int, dir string) error {
	g, err := models.Resolve(model, models.Options{InputH: size, InputW: size})
	if err != nil {
		return err
	}
	models.InitWeights(g, seed)
	if form == "deploy" {
		if g, err = reparam.Deploy(g, reparam.Options{}); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var text strings.Builder
	if err := ir.Print(&text, g); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "model.ir"), []byte(text.String())); err != nil {
		return err
	}
	var w []float32
	for _, n := range g.Nodes {
		for _, s := range n.ParamSpecs() {
			if s.DType != tensor.Float32 {
				continue
			}
			t := n.Params[s.Name]
			if t == nil {
				return fmt.Errorf("%s: parameter %s not set", n.Name, s.Name)
			}
			w = append(w, t.F32...)
		}
	}
	in := g.Input().Shape
	x := tensor.New(1, in.C, in.H, in.W)
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	for i := range x.F32 {
		x.F32[i] = 2*r.Float32() - 1
	}
	y, err := interp.Run(g, x)
	if err != nil {
		return err
	}
	for name, data := range map[string][]float32{"weights.bin": w, "input.bin": x.F32, "logits.bin": y.F32} {
		if err := writeF32(filepath.Join(dir, name), data); err != nil {
			return err
		}
	}
	fmt.Printf("%s (%s form, %dx%d): %d weights, %d logits -> %s\n", g.Name, form, in.H, in.W, len(w), len(y.F32), dir)
	return nil
}

func writeF32(path string, data []float32) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		return binary.Write(w, binary.LittleEndian, data)
	})
}
