package kern

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/vggsim/vggsim/codegen/emit"
	vir "github.com/vggsim/vggsim/ir"
)

// TestFamilyChoose: convs with ReLU, ReLU6 or nothing fused are taken (depthwise ones by
// the depthwise kernel); a fixed NCHW output and groups of fewer than 16 output channels
// are left to the generic family; a ReLU over blocked storage goes to the pooled
// elementwise kernel, one whose operand layout is unknown does not.
func TestFamilyChoose(t *testing.T) {
	b := vir.NewBuilder("t", vir.Shape{C: 32, H: 32, W: 32})
	dense := b.Conv("dense", b.Input(), 32, 3, 1, 1, 1, true)
	dw := b.Conv("dw", dense, 32, 3, 1, 1, 32, true)
	r := b.ReLU("relu", dw)
	g4 := b.Conv("g4", r, 32, 3, 1, 1, 4, true)
	g, err := b.Finish(g4)
	assert.NoError(t, err)
	conv, depthwise, relu, grouped := g.Nodes[1], g.Nodes[2], g.Nodes[3], g.Nodes[4]
	f := Family{}
	assert.NotNil(t, f.Choose(emit.Request{Node: conv, Act: emit.ActReLU}))
	assert.NotNil(t, f.Choose(emit.Request{Node: conv}))
	if k := f.Choose(emit.Request{Node: conv, Act: emit.ActReLU6}); assert.NotNil(t, k) {
		assert.Contains(t, k.Name(), "_relu6")
		assert.Equal(t, "winograd", k.Family(), "ReLU6 is fused into Winograd's output transform")
	}
	assert.Nil(t, f.Choose(emit.Request{Node: conv, Out: emit.NCHW, OutFixed: true}))
	assert.Nil(t, f.Choose(emit.Request{Node: grouped}), "8 output channels per group")
	if k := f.Choose(emit.Request{Node: depthwise, Act: emit.ActReLU6}); assert.NotNil(t, k) {
		assert.Equal(t, "depthwise", k.Family())
	}
	assert.Nil(t, f.Choose(emit.Request{Node: relu}))
	if k := f.Choose(emit.Request{Node: relu, Have: []emit.Layout{emit.Blocked(16)}}); assert.NotNil(t, k) {
		assert.Equal(t, "eltwise", k.Family())
		assert.Equal(t, emit.Blocked(16), k.Out())
	}
	k := Family{Algo: AlgoDirect}.Choose(emit.Request{Node: conv, Act: emit.ActReLU})
	assert.Equal(t, "direct", k.Family())
	// The cost model picks Winograd for a 3×3 stride-1 conv on a 32×32 map.
	assert.Equal(t, "winograd", f.Choose(emit.Request{Node: conv, Act: emit.ActReLU}).Family())
	assert.Equal(t, []emit.Layout{emit.Blocked(16)}, k.In())
	k = f.Choose(emit.Request{Node: conv, Have: []emit.Layout{emit.NCHW}})
	assert.Equal(t, []emit.Layout{emit.Blocked(16)}, k.In(), "32 channels stored NCHW are reordered, not read plain")
}
