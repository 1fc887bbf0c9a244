package chart

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot/plotter"
)

func sample(t *testing.T) *Chart {
	c := New("title", "x", "y")
	l, err := plotter.NewLine(plotter.XYs{{X: 1, Y: 1}, {X: 1024, Y: 3}})
	require.NoError(t, err)
	c.Plot.Add(l)
	c.Add("one line", l)
	LogSizeAxis(c.Plot, 1, 1024)
	Headroom(c.Plot, 3)
	return c
}

// TestSaveByExtension: the file's extension picks the format, checked by magic bytes.
func TestSaveByExtension(t *testing.T) {
	dir := t.TempDir()
	for ext, magic := range map[string]string{".svg": "<?xml", ".png": "\x89PNG", ".pdf": "%PDF"} {
		p := filepath.Join(dir, "c"+ext)
		require.NoError(t, Save(sample(t), p))
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		assert.True(t, bytes.HasPrefix(b, []byte(magic)), "%s starts %q", ext, b[:min(len(b), 8)])
	}
	err := CheckPath("c.bmp")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown format ".bmp"`)
	assert.Error(t, Save(sample(t), filepath.Join(dir, "c.txt")))
}

func TestLegendAndAxes(t *testing.T) {
	c := sample(t)
	assert.Equal(t, []string{"one line"}, c.Legend())
	assert.Equal(t, 0.0, c.Plot.Y.Min)
	assert.InDelta(t, 3*1.06, c.Plot.Y.Max, 1e-12)
	assert.Equal(t, 1.0, c.Plot.X.Min)
	assert.Equal(t, 1024.0, c.Plot.X.Max)
	w, h := c.Size()
	assert.Equal(t, Width, w)
	assert.Greater(t, h, Height)
	assert.Equal(t, "64 KiB", SizeString(64<<10))
	assert.Equal(t, "1.5 MiB", SizeString(3<<19))
	assert.Equal(t, "512 B", SizeString(512))
	assert.Equal(t, Color(0), Color(len(palette)))
}

// TestSVGEmbedsFonts: an SVG carries its fonts (an @font-face rule with the data), so it
// looks the same on machines without Liberation fonts.
func TestSVGEmbedsFonts(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, Write(sample(t), &b, "svg"))
	assert.Contains(t, b.String(), "@font-face")
	assert.Contains(t, b.String(), "base64,")
}

// TestLogTicks: powers of ten labelled, 2× and 5× minor ticks, all labelled over a short
// range; NumberString abbreviates.
func TestLogTicks(t *testing.T) {
	var vals, labels []string
	for _, tk := range LogTicks(0.5, 300) {
		vals = append(vals, NumberString(tk.Value))
		labels = append(labels, tk.Label)
	}
	assert.Equal(t, []string{"0.5", "1", "2", "5", "10", "20", "50", "100", "200"}, vals)
	assert.Equal(t, []string{"", "1", "", "", "10", "", "", "100", ""}, labels)
	var few []string
	for _, tk := range LogTicks(2, 60) {
		few = append(few, tk.Label)
	}
	assert.Equal(t, []string{"2", "5", "10", "20", "50"}, few)
	assert.Equal(t, "20k", NumberString(2e4))
	assert.Equal(t, "1.5M", NumberString(1.5e6))
	assert.Equal(t, "3G", NumberString(3e9))
	assert.Equal(t, "0.05", NumberString(0.05))
	c := New("t", "x", "y")
	LogAxis(&c.Plot.X, 0.5, 300)
	assert.Equal(t, 0.5, c.Plot.X.Min)
	assert.Equal(t, 300.0, c.Plot.X.Max)
	_, _, _, a := Faded(Color(0), 0.5).RGBA()
	assert.Equal(t, uint32(0x8080), a)
	assert.NotEqual(t, Shape(0), Shape(1))
	assert.Equal(t, Shape(0), Shape(len(shapes)))
}
