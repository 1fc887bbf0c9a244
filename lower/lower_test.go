package lower_test

import (
	"encoding/csv"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vggsim/vggsim/internal/testref"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/lower"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/sim"
)

// TestA0MatchesScaleSimTopology checks RepVGG-A0's deploy lowering against the topology
// SCALE-Sim's reference run used (testdata/scalesim/topologies/repvgg_a0.csv, written by
// hand from the paper): 22 convs with their ReLUs fused and then the classifier, each with
// the channels, filters and stride of its row. The topology passes a padded 3×3 conv as an
// unpadded one on H+2 (stride 1) or H+1 (stride 2) rows.
func TestA0MatchesScaleSimTopology(t *testing.T) {
	g, err := models.BuildDeploy("RepVGG-A0", models.Options{})
	require.NoError(t, err)
	layers, err := lower.Graph(g)
	require.NoError(t, err)
	f, err := os.Open(testref.ScaleSim("topologies", "repvgg_a0.csv"))
	require.NoError(t, err)
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	require.NoError(t, err)
	rows = rows[1:]
	require.Len(t, rows, 23)

	var convs []sim.Layer
	for _, l := range layers {
		if l.Kind == sim.Conv || l.Kind == sim.GEMM {
			convs = append(convs, l)
		}
	}
	require.Len(t, convs, 23)
	for i, row := range rows {
		n := func(j int) int {
			v, err := strconv.Atoi(strings.TrimSpace(row[j]))
			require.NoError(t, err)
			return v
		}
		l := convs[i]
		if i == 22 { // the classifier, a 1×1 conv over the pooled vector in the topology
			assert.Equal(t, sim.GEMM, l.Kind)
			assert.Equal(t, n(5), l.InC, "classifier inputs")
			assert.Equal(t, n(6), l.OutC, "classifier outputs")
			assert.False(t, l.FusedReLU, "no ReLU after the classifier")
			continue
		}
		assert.Equal(t, sim.Conv, l.Kind, row[0])
		assert.True(t, l.FusedReLU, row[0])
		assert.Equal(t, n(5), l.InC, row[0])
		assert.Equal(t, n(6), l.OutC, row[0])
		assert.Equal(t, n(7), l.StrideH, row[0])
		assert.Equal(t, n(3), l.KH, row[0])
		assert.Equal(t, 1, l.PadH, row[0])
		pad := 2
		if l.StrideH == 2 {
			pad = 1
		}
		assert.Equal(t, n(1), l.InH+pad, row[0])
	}
	// Between the convs and the classifier: the global pool, unfused.
	assert.Equal(t, sim.GlobalPool, layers[22].Kind)
	assert.Len(t, layers, 24)
}

// TestGroupsTrainForm: in the train form a conv's result is read by a BatchNorm, so no
// ReLU fuses into a conv; every ReLU, BN and Add is a layer of its own.
func TestGroupsTrainForm(t *testing.T) {
	g, err := models.Build("RepVGG-A0", models.Options{})
	require.NoError(t, err)
	groups, err := lower.Groups(g)
	require.NoError(t, err)
	count := map[ir.Op]int{}
	for _, gr := range groups {
		assert.Equal(t, -1, gr.ReLU, gr.Node(g).Name)
		count[gr.Node(g).Op]++
	}
	// 22 blocks: 22 dense convs, 22 1×1 convs, 22+21-… BNs; check the ops that are fixed.
	assert.Equal(t, 44, count[ir.Conv])
	assert.Equal(t, 22, count[ir.ReLU])
	assert.Equal(t, 22, count[ir.Add])
	assert.Equal(t, 1, count[ir.Linear])
	assert.Zero(t, count[ir.Input]+count[ir.Flatten])
}

// tinyNet is conv → relu → conv (two readers: relu and add) → relu, add → output.
func tinyNet(t *testing.T) *ir.Graph {
	b := ir.NewBuilder("tiny", ir.Shape{C: 4, H: 8, W: 8})
	a := b.ReLU("r1", b.Conv("c1", b.Input(), 4, 3, 1, 1, 1, true))
	c2 := b.Conv("c2", a, 4, 3, 1, 1, 1, true)
	y := b.Add("add", b.ReLU("r2", c2), c2)
	g, err := b.Finish(y)
	require.NoError(t, err)
	return g
}

func TestGroupsFusion(t *testing.T) {
	g := tinyNet(t)
	groups, err := lower.Groups(g)
	require.NoError(t, err)
	var names []string
	for _, gr := range groups {
		n := gr.Node(g).Name
		if gr.ReLU >= 0 {
			n += "+" + g.Nodes[gr.ReLU].Name
		}
		names = append(names, n)
	}
	// c2 has two readers, so its ReLU stays a layer.
	assert.Equal(t, []string{"c1+r1", "c2", "r2", "add"}, names)
	assert.Equal(t, "r1", g.Nodes[groups[0].ReLU].Name)
	assert.Same(t, g.Nodes[groups[0].ReLU].Out, groups[0].Out)
}

// onChipAfter keeps every value produced at or after step from on chip.
type onChipAfter struct{ step int }

func (r onChipAfter) InputOnChip(_ *ir.Value, step int) bool { return step > r.step }
func (r onChipAfter) OutputOnChip(v *ir.Value) bool          { return v.ID > 2 }

func TestLayersResidency(t *testing.T) {
	g := tinyNet(t)
	groups, err := lower.Groups(g)
	require.NoError(t, err)
	off := lower.Layers(g, groups, lower.OffChip)
	for _, l := range off {
		assert.Equal(t, make([]bool, l.Inputs()), l.InputsOnChip, l.Name)
		assert.False(t, l.OutputOnChip, l.Name)
	}
	on := lower.Layers(g, groups, onChipAfter{step: 2})
	assert.Equal(t, []bool{false}, on[0].InputsOnChip) // c1 at step 1
	assert.Equal(t, []bool{true}, on[1].InputsOnChip)  // c2 at step 3
	assert.Equal(t, []bool{true, true}, on[3].InputsOnChip)
	assert.False(t, on[0].OutputOnChip) // r1's value ID 2
	assert.True(t, on[1].OutputOnChip)
}

// TestMulBroadcastOnChip: the SE block's C×1×1 scale never costs a map read.
func TestMulBroadcastOnChip(t *testing.T) {
	g, err := models.BuildDeploy("RepVGG-D2se", models.Options{InputH: 64, InputW: 64})
	require.NoError(t, err)
	layers, err := lower.Graph(g)
	require.NoError(t, err)
	muls := 0
	for _, l := range layers {
		if l.Kind == sim.Mul {
			muls++
			assert.Equal(t, []bool{false, true}, l.InputsOnChip, l.Name)
		}
	}
	assert.Positive(t, muls)
}

// TestUnknownOpIsAnError: an operator with no accelerator layer fails loudly, naming the
// node, instead of vanishing from the simulation.
func TestUnknownOpIsAnError(t *testing.T) {
	g := tinyNet(t)
	g.Nodes[2].Op = ir.Op(200)
	_, err := lower.Groups(g)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "node r1")
	assert.Contains(t, err.Error(), "has no accelerator layer")
	_, err = lower.Graph(&ir.Graph{Name: "empty"})
	assert.Error(t, err)
}

// TestDeps: lower imports neither memory nor any plotting package.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	require.NoError(t, err)
	for _, dep := range strings.Fields(string(out)) {
		assert.NotContains(t, dep, "gonum", "lower must not depend on charts")
		assert.NotEqual(t, "github.com/vggsim/vggsim/memory", dep)
	}
}
