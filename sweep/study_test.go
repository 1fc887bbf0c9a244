package sweep

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var wantRe = regexp.MustCompile(`# want: (.*)$`)

// TestBadStudies: every file in testdata/bad has one problem, marked with a "# want:" line
// giving the position, field and the start of the message; Parse reports exactly it.
func TestBadStudies(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			var want string
			for _, line := range strings.Split(string(data), "\n") {
				if m := wantRe.FindStringSubmatch(line); m != nil {
					want = f + ":" + m[1]
				}
			}
			require.NotEmpty(t, want, "no # want: line")
			_, err = Parse(f, data)
			require.Error(t, err)
			var list ErrorList
			require.ErrorAs(t, err, &list)
			assert.Len(t, list, 1, "%v", err)
			assert.True(t, strings.HasPrefix(err.Error(), want), "got  %s\nwant %s…", err, want)
		})
	}
}

func parseText(t *testing.T, text string) *Study {
	t.Helper()
	s, err := Parse("study.yaml", []byte(text))
	require.NoError(t, err)
	return s
}

// TestRanges checks geometric and arithmetic ranges, with and without units.
func TestRanges(t *testing.T) {
	s := parseText(t, `
name: r
models: [RepVGG-A0]
axes:
  array.rows: 32..256 *2
  array.cols: 8..40 +16
  sram.ifmap: 32KiB..128KiB *2
  clock: 500MHz..1GHz +250MHz
  data_bits: 7..9
  dataflow: [os, WS]
`)
	nums := func(a Axis) []float64 {
		var out []float64
		for _, v := range a.Values {
			out = append(out, v[0].Num)
		}
		return out
	}
	require.Len(t, s.Axes, 6)
	assert.Equal(t, []float64{32, 64, 128, 256}, nums(s.Axes[0]))
	assert.Equal(t, []float64{8, 24, 40}, nums(s.Axes[1]))
	assert.Equal(t, []float64{32768, 65536, 131072}, nums(s.Axes[2]))
	assert.Equal(t, []float64{5e8, 7.5e8, 1e9}, nums(s.Axes[3]))
	assert.Equal(t, []float64{7, 8, 9}, nums(s.Axes[4]))
	assert.Equal(t, "os", s.Axes[5].Values[0][0].Str)
	assert.Equal(t, "ws", s.Axes[5].Values[1][0].Str)
}

// TestGridExpansion checks the point order (workloads outermost, the last axis fastest,
// zipped fields together), the constraints and the point indices over the full grid.
func TestGridExpansion(t *testing.T) {
	s := parseText(t, `
name: g
models: [RepVGG-A0, {model: ResNet-18, form: both}]
batch: [1, 4]
axes:
  zip:
    array.rows: [8, 16, 32]
    array.cols: [8, 16, 64]
  sram.ifmap: [64KiB, 1MiB]
constraints:
  - rows*cols <= 256
  - sram.total < 1MiB + 128KiB
`)
	ws := s.Workloads()
	require.Len(t, ws, 6) // A0 deploy ×2 batches, ResNet-18 train and deploy ×2 batches
	assert.Equal(t, "RepVGG-A0", ws[0].Model.Path)
	assert.Equal(t, 4, ws[1].Batch)
	assert.Equal(t, "train", ws[2].Form)
	assert.Equal(t, "deploy", ws[4].Form)
	pts, dropped := s.Points()
	// Per workload 3×2 = 6 combinations; 32×64 breaks rows*cols (2 points), and 1MiB of
	// ifmap SRAM with the 2×64KiB of filter and ofmap breaks the SRAM budget (3 points).
	assert.Equal(t, 6*2, len(pts))
	assert.Equal(t, 6*4, dropped)
	p := pts[1]
	assert.Equal(t, 2, p.Index) // (16,16) 64KiB is the third combination
	assert.Equal(t, []float64{16, 16, 65536}, []float64{p.Values[0].Num, p.Values[1].Num, p.Values[2].Num})
	cfg := s.Config(p)
	assert.Equal(t, 16, cfg.Rows)
	assert.Equal(t, 16, cfg.Cols)
	assert.Equal(t, int64(65536), cfg.IfmapSRAMBytes)
	assert.Equal(t, 32, s.Hardware.Rows, "the base hardware is not changed")
	assert.Equal(t, 6, pts[2].Index)
	assert.Equal(t, 1, pts[2].Workload)

	shard := Shard(pts, 1, 5)
	require.Len(t, shard, 3)
	assert.Equal(t, []int{pts[1].Index, pts[6].Index, pts[11].Index}, []int{shard[0].Index, shard[1].Index, shard[2].Index})
}

// TestConstraintExpressions evaluates constraints on a known configuration.
func TestConstraintExpressions(t *testing.T) {
	s := parseText(t, "name: c\nmodels: [RepVGG-A0]\n")
	cfg := s.Hardware // edge-32: 32×32, 3×64KiB SRAM, 1GHz, 16GB/s
	for expr, want := range map[string]bool{
		"rows*cols <= 1024":                          true,
		"rows*cols < 1024":                           false,
		"pes == 1024":                                true,
		"sram.total <= 192KiB":                       true,
		"sram.total < 192KiB":                        false,
		"(sram.ifmap + sram.ofmap) / 2 == 64KiB":     true,
		"clock >= 1GHz":                              true,
		"dram.bandwidth / clock == 16":               true,
		"-rows + 2*cols == 32":                       true,
		"batch != 1":                                 false,
		"area <= 0.0012*1024 + 0.0039*192 + 1e-9":    true,
		"energy.dram_access_per_byte >= 1.5e1pJ":     true,
		"data_bits*rows*cols/8 == 1KiB":              true,
		"sram.filter >= 2 * rows * cols * 8 / 8 * 1": true,
	} {
		n, err := parseConstraint(expr)
		require.NoError(t, err, expr)
		got := n.eval(pointEnv(cfg, 1, s.Area.Of(cfg))) == 1
		assert.Equal(t, want, got, expr)
	}
	for expr, msg := range map[string]string{
		"rows*cols":          "want a comparison",
		"rows <= ":           "expression ends early",
		"dataflow == 1":      "dataflow is not a number",
		"rows <= 4Mbps":      "bad number \"4Mbps\"",
		"(rows <= 4":         "missing )",
		"rows <= 4 cols":     "unexpected \"cols\" after the comparison",
		"rows <= 4 <= cols ": "unexpected \"<= cols \" after the comparison",
	} {
		_, err := parseConstraint(expr)
		require.Error(t, err, expr)
		assert.Contains(t, err.Error(), msg, expr)
	}
}

// TestArea checks the area proxy against its closed form.
func TestArea(t *testing.T) {
	s := parseText(t, "name: a\nmodels: [RepVGG-A0]\narea: {pe_mm2: 0.5, sram_mm2_per_kib: 0.25}\n")
	assert.InDelta(t, 0.5*1024+0.25*192, s.Area.Of(s.Hardware), 1e-12)
	assert.InDelta(t, 0.0012*1024+0.0039*192, DefaultArea().Of(s.Hardware), 1e-12)
}

// TestAxisValueTooLarge: an axis value the hardware Config cannot hold is refused at its
// position in the study, not silently dropped when the point is built.
func TestAxisValueTooLarge(t *testing.T) {
	_, err := Parse("big.yaml", []byte("name: big\nmodels: [RepVGG-A0]\nhardware: edge-32\naxes:\n  array.rows: [32, 99999999999]\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "big.yaml:5:20: axes.array.rows: array.rows: 9.9999999999e+10 is too large")
}
