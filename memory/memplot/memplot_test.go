package memplot

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/memory"
	"github.com/vggsim/vggsim/models"
)

// TestLive: one solid and one dashed line per report, each labelled with its peak.
func TestLive(t *testing.T) {
	var reps []*memory.Report
	for _, build := range []func(string, models.Options) (*ir.Graph, error){models.Build, models.BuildDeploy} {
		g, err := build("RepVGG-A0", models.Options{InputH: 64, InputW: 64})
		require.NoError(t, err)
		r, err := memory.Analyze(g, memory.Options{})
		require.NoError(t, err)
		reps = append(reps, r)
	}
	c, err := Live(reps)
	require.NoError(t, err)
	leg := c.Legend()
	require.Len(t, leg, 4)
	assert.True(t, strings.HasPrefix(leg[0], "RepVGG-A0"), leg[0])
	assert.Contains(t, leg[0], "working set: peak ")
	assert.Contains(t, leg[1], "resident (paper Fig. 3)")
	_, err = Live(nil)
	assert.Error(t, err)
}

// TestMemoryHasNoPlotting: package memory does not depend on gonum; its charts live here.
func TestMemoryHasNoPlotting(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/vggsim/vggsim/memory").Output()
	require.NoError(t, err)
	assert.NotContains(t, string(out), "gonum")
}
