package sweep

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vggsim/vggsim/memory"
	"github.com/vggsim/vggsim/models"
)

const smallStudy = `
name: small
models: [RepVGG-A0, {model: ResNet-18, form: both}]
input: 64
axes:
  array.rows: 8..32 *2
  array.cols: [8, 32]
  dataflow: [os, ws]
  sram.ifmap: [2KiB, 64KiB]
constraints: ["rows*cols <= 512"]
objectives: [latency, energy, area]
`

func loadText(t *testing.T, dir, text string) *Study {
	t.Helper()
	path := filepath.Join(dir, "study.yaml")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	s, err := Load(path)
	require.NoError(t, err)
	return s
}

// TestRunMatchesSimulate: every row equals what memory.Analyze + Report.Simulate (the path
// of vggsim simulate) gives for that point, and bad hardware points carry their error.
func TestRunMatchesSimulate(t *testing.T) {
	dir := t.TempDir()
	s := loadText(t, dir, smallStudy)
	out := filepath.Join(dir, "r.csv")
	tab, sum, err := Run(s, Options{Output: out, Jobs: 2})
	require.NoError(t, err)
	assert.Equal(t, 3*3*2*2*2, sum.Grid)
	assert.Equal(t, 3*2*2, sum.Dropped) // 32×32 breaks rows*cols <= 512
	assert.Equal(t, sum.Grid-sum.Dropped, len(tab.Rows))
	// 2KiB of ifmap SRAM is below the minimum of some arrays: those rows carry the
	// validation error; the others must match the reference path.
	ws := s.Workloads()
	status, cycles, energy := tab.col("status"), tab.col("cycles"), tab.col("energy_per_image_j")
	ok := 0
	for _, r := range tab.Rows {
		idx, _ := strconv.Atoi(r[0])
		var p Point
		pts, _ := s.Points()
		for _, q := range pts {
			if q.Index == idx {
				p = q
			}
		}
		cfg := s.Config(p)
		if verr := cfg.Validate(); verr != nil {
			assert.True(t, strings.HasPrefix(r[status], "invalid hardware: "), r[status])
			continue
		}
		require.Equal(t, "ok", r[status])
		ok++
		w := ws[p.Workload]
		g, err := models.Resolve(w.Model.Path, models.Options{InputH: 64, Deploy: w.Form == "deploy"})
		require.NoError(t, err)
		rep, err := memory.Analyze(g, memory.Options{Bits: cfg.DataBits, Batch: w.Batch})
		require.NoError(t, err)
		h, err := rep.Simulate(cfg, -1)
		require.NoError(t, err)
		assert.Equal(t, strconv.FormatInt(h.Cycles, 10), r[cycles], "point %d", idx)
		assert.Equal(t, fnum(h.EnergyPerImageJ), r[energy], "point %d", idx)
	}
	assert.Greater(t, ok, 20)
	// The file on disk is the table.
	var buf bytes.Buffer
	require.NoError(t, tab.Write(&buf, CSV))
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, buf.String(), string(data))
	// Each workload has a front, and only ok rows are on it.
	fronts := map[string]int{}
	for _, r := range tab.Rows {
		if r[len(r)-1] == "true" {
			require.Equal(t, "ok", r[status])
			fronts[r[1]+r[2]]++
		}
	}
	assert.Len(t, fronts, 3)
}

// TestShardsMergeEqualUnsharded: the parts of a 3-way split, merged, are the unsharded
// file byte for byte, in CSV and in JSON Lines.
func TestShardsMergeEqualUnsharded(t *testing.T) {
	for _, ext := range []string{".csv", ".jsonl"} {
		dir := t.TempDir()
		s := loadText(t, dir, smallStudy)
		whole := filepath.Join(dir, "whole"+ext)
		_, _, err := Run(s, Options{Output: whole, Jobs: 2})
		require.NoError(t, err)
		var parts []string
		for i := range 3 {
			p := filepath.Join(dir, fmt.Sprintf("part%d%s", i, ext))
			_, sum, err := Run(s, Options{Output: p, Shard: i, Shards: 3, Jobs: 1})
			require.NoError(t, err)
			assert.Greater(t, sum.Selected, 0)
			parts = append(parts, p)
		}
		m, err := Merge([]string{parts[2], parts[0], parts[1]}, nil)
		require.NoError(t, err)
		merged := filepath.Join(dir, "merged"+ext)
		require.NoError(t, m.WriteFile(merged))
		a, _ := os.ReadFile(whole)
		b, _ := os.ReadFile(merged)
		assert.Equal(t, string(a), string(b), ext)
		_, err = Merge([]string{parts[0], parts[0]}, nil)
		assert.ErrorContains(t, err, "appears twice")
	}
}

// TestResumeFromPartialFile: a results file cut in the middle of a row (as a kill leaves
// it) resumes to the same final file, and a file from another study is refused.
func TestResumeFromPartialFile(t *testing.T) {
	dir := t.TempDir()
	s := loadText(t, dir, smallStudy)
	whole := filepath.Join(dir, "whole.csv")
	_, _, err := Run(s, Options{Output: whole})
	require.NoError(t, err)
	want, _ := os.ReadFile(whole)

	// A streamed file: the header and some rows with an empty pareto cell, cut mid-row.
	tab, _, _ := ReadTable(whole)
	var buf bytes.Buffer
	part := &Table{Columns: tab.Columns}
	for _, r := range tab.Rows[:10] {
		c := append([]string(nil), r...)
		c[len(c)-1] = ""
		part.Rows = append(part.Rows, c)
	}
	require.NoError(t, part.Write(&buf, CSV))
	buf.WriteString("123,RepVGG-A0,depl")
	res := filepath.Join(dir, "res.csv")
	require.NoError(t, os.WriteFile(res, buf.Bytes(), 0o644))
	_, sum, err := Run(s, Options{Output: res, Resume: true})
	require.NoError(t, err)
	assert.Equal(t, 10, sum.Resumed)
	assert.Equal(t, len(tab.Rows)-10, sum.Ran)
	got, _ := os.ReadFile(res)
	assert.Equal(t, string(want), string(got))

	other := loadText(t, dir, strings.Replace(smallStudy, "[8, 32]", "[8, 16]", 1))
	_, _, err = Run(other, Options{Output: res, Resume: true})
	assert.ErrorContains(t, err, "written by another study")
}

// TestInvalidHardwarePoint: a point whose SRAM is too small for its array is a row with
// the validation error, not a failed run.
func TestInvalidHardwarePoint(t *testing.T) {
	dir := t.TempDir()
	s := loadText(t, dir, "name: v\nmodels: [RepVGG-A0]\ninput: 32\naxes:\n  sram.filter: [16, 64KiB]\n")
	tab, sum, err := Run(s, Options{})
	require.NoError(t, err)
	assert.Equal(t, 2, sum.Ran)
	assert.Equal(t, 1, sum.Failed)
	assert.Contains(t, tab.Rows[0][tab.col("status")], "invalid hardware: ")
	assert.Contains(t, tab.Rows[0][tab.col("status")], "sram.filter")
	assert.Equal(t, "false", tab.Rows[0][len(tab.Columns)-1])
	assert.Equal(t, "ok", tab.Rows[1][tab.col("status")])
	assert.Equal(t, "true", tab.Rows[1][len(tab.Columns)-1])
}

// TestPlots draws both charts of a small run and checks they are SVG files with the
// workloads' legend entries.
func TestPlots(t *testing.T) {
	dir := t.TempDir()
	s := loadText(t, dir, smallStudy)
	tab, _, err := Run(s, Options{})
	require.NoError(t, err)
	sc, ln := filepath.Join(dir, "s.svg"), filepath.Join(dir, "l.svg")
	require.NoError(t, tab.PlotScatter("latency_s", "energy_per_image_j", sc))
	require.NoError(t, tab.PlotLines("array.rows", "utilization", ln))
	for _, f := range []string{sc, ln} {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.Contains(t, string(data), "<svg")
		assert.Contains(t, string(data), "@font-face", "drawn by package chart, fonts embedded")
		for _, l := range []string{"RepVGG-A0 deploy", "ResNet-18 train", "ResNet-18 deploy"} {
			assert.Contains(t, string(data), l, f)
		}
	}
	assert.ErrorContains(t, tab.PlotLines("array.rows", "watts", ln), `no column "watts"`)
}
