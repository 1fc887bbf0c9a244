package kern

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/vggsim/vggsim/codegen/emit"
	vir "github.com/vggsim/vggsim/ir"
)

// TestFamilyChoose: convs with ReLU or nothing fused are taken; ReLU6, a fixed NCHW
// output, non-convs and groups of fewer than 16 output channels are left to the generic
// family.
func TestFamilyChoose(t *testing.T) {
	b := vir.NewBuilder("t", vir.Shape{C: 32, H: 8, W: 8})
	dense := b.Conv("dense", b.Input(), 32, 3, 1, 1, 1, true)
	dw := b.Conv("dw", dense, 32, 3, 1, 1, 32, true)
	r := b.ReLU("relu", dw)
	g, err := b.Finish(r)
	assert.NoError(t, err)
	conv, depthwise, relu := g.Nodes[1], g.Nodes[2], g.Nodes[3]
	f := Family{}
	assert.NotNil(t, f.Choose(emit.Request{Node: conv, Act: emit.ActReLU}))
	assert.NotNil(t, f.Choose(emit.Request{Node: conv}))
	assert.Nil(t, f.Choose(emit.Request{Node: conv, Act: emit.ActReLU6}))
	assert.Nil(t, f.Choose(emit.Request{Node: conv, Out: emit.NCHW, OutFixed: true}))
	assert.Nil(t, f.Choose(emit.Request{Node: depthwise}))
	assert.Nil(t, f.Choose(emit.Request{Node: relu}))
	k := Family{Algo: AlgoDirect}.Choose(emit.Request{Node: conv, Act: emit.ActReLU})
	assert.Equal(t, "direct", k.Family())
	// The cost model picks Winograd for a 3×3 stride-1 conv on an 8×8 map.
	assert.Equal(t, "winograd", f.Choose(emit.Request{Node: conv, Act: emit.ActReLU}).Family())
	assert.Equal(t, []emit.Layout{emit.Blocked(16)}, k.In())
}
