package codegen_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vggsim/vggsim/codegen"
	"github.com/vggsim/vggsim/codegen/emit"
	"github.com/vggsim/vggsim/codegen/kern"
	"github.com/vggsim/vggsim/interp"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/tensor"
)

// zooInput is the input size of the zoo test: the smallest every model (VGG-16's adaptive
// pooling included) builds at, to keep compile and interpretation fast.
const zooInput = 32

// TestZoo compiles every zoo model in both forms, runs it at batch 1 and 3 and compares
// with interp; then again with Winograd forced wherever it applies, at batch 1.
func TestZoo(t *testing.T) {
	for _, name := range models.Names() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Each form with its own seeded weights (the deploy form need not be the fused
			// train form here; reparam's tests cover fusion), built one after the other so
			// the large models' weights are not held twice. A form whose graph is the
			// other's (VGG-16 has no BN to fold) is run once.
			seen := ""
			for _, form := range []struct {
				name  string
				build func(string, models.Options) (*ir.Graph, error)
			}{{"deploy", models.BuildDeploy}, {"train", models.Build}} {
				g, err := form.build(name, models.Options{InputH: zooInput, InputW: zooInput})
				if err != nil {
					t.Fatal(err)
				}
				var text strings.Builder
				if err := ir.Print(&text, g); err != nil {
					t.Fatal(err)
				}
				if text.String() == seen {
					t.Logf("%s: the same graph as the deploy form", form.name)
					continue
				}
				seen = text.String()
				fastWeights(g, 1)
				x := randInput(g, 3, 3)
				t0 := time.Now()
				c, err := codegen.Compile(g, codegen.Options{}, toolchain(t))
				if err != nil {
					t.Fatalf("%s: %v", form.name, err)
				}
				parseBack(t, c.Module)
				t1 := time.Now()
				want, err := interp.Run(g, x)
				if err != nil {
					t.Fatal(err)
				}
				t2 := time.Now()
				// Batch 3, and batch 1 on the first image (interp's image 0 does not
				// depend on the batch).
				for _, b := range []int{3, 1} {
					xb := tensor.FromF32(x.F32[:b*x.Len()/3], b, x.Shape[1], x.Shape[2], x.Shape[3])
					got, err := c.Run(xb)
					if err != nil {
						t.Fatalf("%s batch %d: %v", form.name, b, err)
					}
					wb := tensor.FromF32(want.F32[:b*want.Len()/3], append([]int{b}, want.Shape[1:]...)...)
					if e := relErr(got, wb); !(e <= tol) {
						t.Errorf("%s batch %d: relative error %.3g > %g", form.name, b, e, tol)
					}
				}
				c.Close()
				t.Logf("%s: %d kernel functions, scratch %d B; compile %v (cached %v), interp %v, run %v",
					form.name, len(c.Module.Functions), c.Module.Plan.ScratchBytes, t1.Sub(t0).Round(time.Millisecond),
					c.Artifacts.Cached, t2.Sub(t1).Round(time.Millisecond), time.Since(t2).Round(time.Millisecond))
				// Winograd forced on every conv it applies to (the cost model keeps direct on
				// the small maps of a 32×32 input), batch 1 against the same reference; skipped
				// when the module is the default one.
				fw := codegen.Options{Families: []emit.Family{kern.Family{Algo: kern.AlgoWinograd}}}
				m, err := codegen.Generate(g, fw)
				if err != nil {
					t.Fatalf("%s, winograd forced: %v", form.name, err)
				}
				if m.LL == c.Module.LL {
					continue
				}
				cw, err := codegen.Compile(g, fw, toolchain(t))
				if err != nil {
					t.Fatalf("%s, winograd forced: %v", form.name, err)
				}
				x1 := tensor.FromF32(x.F32[:x.Len()/3], 1, x.Shape[1], x.Shape[2], x.Shape[3])
				got, err := cw.Run(x1)
				if err != nil {
					t.Fatalf("%s, winograd forced: %v", form.name, err)
				}
				w1 := tensor.FromF32(want.F32[:want.Len()/3], append([]int{1}, want.Shape[1:]...)...)
				if e := relErr(got, w1); !(e <= tol) {
					t.Errorf("%s, winograd forced: relative error %.3g > %g", form.name, e, tol)
				}
				cw.Close()
			}
		})
	}
}
