package codegen_test

import (
	"testing"

	"github.com/vggsim/vggsim/codegen"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/reparam"
)

// TestRepVGGA0 is the end-to-end slice: RepVGG-A0 in both forms, generated, compiled,
// run at batch 1 and 3 and compared with interp; the deploy form needs less scratch.
func TestRepVGGA0(t *testing.T) {
	g, err := models.Build("RepVGG-A0", models.Options{InputH: 32, InputW: 32})
	if err != nil {
		t.Fatal(err)
	}
	models.InitWeights(g, 1)
	d, err := reparam.Deploy(g, reparam.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cd := checkAgainstInterp(t, d, codegen.Options{}, 1, 3)
	ct := checkAgainstInterp(t, g, codegen.Options{}, 1)
	if cd.Module.Plan.ScratchBytes >= ct.Module.Plan.ScratchBytes {
		t.Errorf("scratch: deploy %d, train %d", cd.Module.Plan.ScratchBytes, ct.Module.Plan.ScratchBytes)
	}
}
