package memory_test

import (
	"fmt"
	"strings"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/memory"
)

// The RepVGG paper's Fig. 3: a residual block that keeps the feature size holds twice its
// input in feature maps, a plain block once.
func ExampleAnalyze() {
	residual := `graph "residual"
%0 = input : 64x56x56
%1 = conv[k=3x3 s=1 p=1 g=1 bias] %0 @conv1 : 64x56x56
%2 = relu %1 @relu1 : 64x56x56
%3 = conv[k=3x3 s=1 p=1 g=1 bias] %2 @conv2 : 64x56x56
%4 = add %3, %0 @add : 64x56x56
%5 = relu %4 @relu2 : 64x56x56
return %5
`
	plain := `graph "plain"
%0 = input : 64x56x56
%1 = conv[k=3x3 s=1 p=1 g=1 bias] %0 @conv : 64x56x56
%2 = relu %1 @relu : 64x56x56
return %2
`
	for _, src := range []string{residual, plain} {
		g, err := ir.Parse("block.ir", strings.NewReader(src))
		if err != nil {
			panic(err)
		}
		r, err := memory.Analyze(g, memory.Options{Bits: 8})
		if err != nil {
			panic(err)
		}
		in := float64(r.Steps[0].OutBytes)
		fmt.Printf("%-8s resident peak %.0f× input, working set %.0f× (%d bytes), arena %d bytes\n",
			r.Model, float64(r.ResidentPeakBytes)/in, float64(r.PeakBytes)/in, r.PeakBytes, r.ArenaBytes)
	}
	// Output:
	// residual resident peak 2× input, working set 3× (602112 bytes), arena 602112 bytes
	// plain    resident peak 1× input, working set 2× (401408 bytes), arena 401408 bytes
}

// Activation DRAM traffic of the residual block against on-chip SRAM: with room for two of
// its three maps, the shortcut streams (one extra read); with all three, only the input is
// read and the output written.
func ExampleReport_Traffic() {
	g, err := ir.Parse("block.ir", strings.NewReader(`graph "residual"
%0 = input : 64x56x56
%1 = conv[k=3x3 s=1 p=1 g=1 bias] %0 @conv1 : 64x56x56
%2 = relu %1 @relu1 : 64x56x56
%3 = conv[k=3x3 s=1 p=1 g=1 bias] %2 @conv2 : 64x56x56
%4 = add %3, %0 @add : 64x56x56
%5 = relu %4 @relu2 : 64x56x56
return %5
`))
	if err != nil {
		panic(err)
	}
	r, _ := memory.Analyze(g, memory.Options{})
	for _, s := range []int64{0, 2 * 200704, r.MinSRAMNoSpill} {
		t := r.Traffic(s)
		fmt.Printf("SRAM %6d: %7d bytes, %d spilled\n", s, t.Bytes(), t.SpilledBuffers)
	}
	// Output:
	// SRAM      0: 1404928 bytes, 3 spilled
	// SRAM 401408:  602112 bytes, 1 spilled
	// SRAM 602112:  401408 bytes, 0 spilled
}

// Depth-first fusion of three 3×3 convs (strides 1, 1, 2) on an 8×16×16 input at 8 bits,
// one output row per band: the line buffers hold 4 rows of the input, 4 of the first map and
// 3 of the second (docs/memory.md, "Worked by hand").
func ExampleFusion() {
	g, err := ir.Parse("three.ir", strings.NewReader(`graph "three"
%0 = input : 8x16x16
%1 = conv[k=3x3 s=1 p=1 g=1 bias] %0 @a : 8x16x16
%2 = relu %1 @a.relu : 8x16x16
%3 = conv[k=3x3 s=1 p=1 g=1 bias] %2 @b : 8x16x16
%4 = relu %3 @b.relu : 8x16x16
%5 = conv[k=3x3 s=2 p=1 g=1 bias] %4 @c : 8x8x8
%6 = relu %5 @c.relu : 8x8x8
return %6
`))
	if err != nil {
		panic(err)
	}
	// Room for the line buffers of one-row bands (11 rows of 128 bytes) and every weight.
	fr, err := memory.Fusion(g, memory.FusionOptions{SRAMBytes: 11*128 + 3*584, MaxDepth: 3})
	if err != nil {
		panic(err)
	}
	s := fr.Depths[2].Segments[0]
	fmt.Printf("depth 3: %d bands of %d row, line rows %v = %d bytes, halo %d bytes\n",
		s.Bands, s.BandRows, s.LineRows, s.LineBufferBytes, s.HaloBytes)
	fmt.Printf("DRAM: layer by layer %d bytes, fused %d bytes, floor %d bytes\n",
		fr.LayerByLayer.DRAMBytes, fr.Best.DRAMBytes, fr.FloorBytes)
	// Output:
	// depth 3: 8 bands of 1 row, line rows [4 4 3] = 1408 bytes, halo 640 bytes
	// DRAM: layer by layer 12504 bytes, fused 4312 bytes, floor 4312 bytes
}
