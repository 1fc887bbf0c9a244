package ir

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReLU6 checks the op's metadata, the text form round trip and the verifier's shape rule.
func TestReLU6(t *testing.T) {
	assert.Equal(t, "relu6", ReLU6.String())
	assert.False(t, ReLU6.HasParams())
	b := NewBuilder("clip", Shape{C: 2, H: 3, W: 3})
	g, err := b.Finish(b.ReLU6("act", b.Conv("conv", b.Input(), 4, 3, 1, 1, 2, true)))
	require.NoError(t, err)
	text := g.String()
	assert.Contains(t, text, "relu6")
	g2, err := Parse("clip.ir", strings.NewReader(text))
	require.NoError(t, err)
	assert.Equal(t, text, g2.String())
	assert.Equal(t, ReLU6, g2.Node("act").Op)

	g.Node("act").Out.Shape = Shape{C: 4, H: 3, W: 2}
	err = Verify(g)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "act")
}
