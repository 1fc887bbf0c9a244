package memory

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readCSV parses CSV output and checks every record has the header's width.
func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	return recs
}

// jsonKeys returns the keys of a JSON object, sorted.
func jsonKeys(t *testing.T, b []byte) []string {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TestRow checks the residual block's row (closed forms of TestResidual: working set 3×,
// resident 2× the input map) as CSV and JSON, without and with hardware.
func TestRow(t *testing.T) {
	r := analyze(t, residualBlock(t), Options{Batch: 2})
	r.Form = "train"
	row := r.Row(nil, nil)
	assert.Equal(t, Row{Model: "residual", Form: "train", Input: [2]int{8, 8}, Bits: 8, Batch: 2,
		PeakBytes: 3 * S * 2, ResidentPeakBytes: 2 * S * 2, ArenaBytes: r.ArenaBytes, TotalBytes: r.TotalBytes,
		WeightsBytes: 2 * (4*4*9 + 4), MinSRAMNoSpill: r.MinSRAMNoSpill, StreamBytes: r.StreamBytes,
		CompulsoryBytes: 2 * S * 2, PeakNode: r.PeakNode, Steps: 6, Buffers: len(r.Buffers)}, row)

	head := RowCSVHeader()
	assert.Len(t, head, 19)
	rec := row.CSVRecord()
	require.Len(t, rec, len(head))
	assert.Equal(t, []string{"residual", "train", "8x8", "8", "2", "1536", "1024"}, rec[:7])
	assert.Equal(t, []string{"", "", "", "", "", ""}, rec[13:], "no hardware: its columns are empty")

	b, err := json.Marshal(row)
	require.NoError(t, err)
	assert.Equal(t, []string{"arena_bytes", "batch", "bits", "buffers", "compulsory_dram_bytes", "form", "input", "min_sram_bytes_no_spill",
		"model", "peak_activation_bytes", "peak_node", "resident_peak_bytes", "steps", "stream_dram_bytes",
		"total_activation_bytes", "weights_bytes"}, jsonKeys(t, b))

	cfg := edge32(t)
	h, err := r.Simulate(cfg, -1)
	require.NoError(t, err)
	lbl, err := r.Simulate(cfg, 0)
	require.NoError(t, err)
	hwRow := r.Row(h, lbl)
	require.NotNil(t, hwRow.Cycles)
	assert.Equal(t, "edge-32", hwRow.Hardware)
	assert.Equal(t, h.Cycles, *hwRow.Cycles)
	assert.Equal(t, lbl.DRAMBytesPerImage, *hwRow.LayerByLayerDRAMPerImage)
	assert.Equal(t, h.ActivationSRAMBytes, *hwRow.ActivationSRAMBytes)

	b, err = json.Marshal(hwRow)
	require.NoError(t, err)
	assert.Len(t, jsonKeys(t, b), 16+12)
	var back Row
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, hwRow, back, "JSON round trip")

	var buf bytes.Buffer
	require.NoError(t, WriteRowsCSV(&buf, []Row{row, hwRow}))
	recs := readCSV(t, buf.Bytes())
	require.Len(t, recs, 3)
	assert.Equal(t, head, recs[0])
	assert.Equal(t, rec, recs[1])
	got := recs[2]
	assert.Equal(t, "edge-32", got[13])
	assert.Equal(t, strconv.FormatInt(h.ActivationSRAMBytes, 10), got[14])
	assert.Equal(t, strconv.FormatInt(h.Cycles, 10), got[16])
	for i, want := range map[int]float64{15: h.DRAMBytesPerImage, 17: h.EnergyJ, 18: lbl.DRAMBytesPerImage} {
		v, err := strconv.ParseFloat(got[i], 64)
		require.NoError(t, err)
		assert.Equal(t, want, v, "column %s reads back exactly", head[i])
	}
}

// TestSweepRows checks the rows of a traffic sweep: with no SRAM every activation streams
// (StreamBytes), with room for everything only the input and output move (CompulsoryBytes).
func TestSweepRows(t *testing.T) {
	r := analyze(t, residualBlock(t), Options{Batch: 2})
	r.Form = "train"
	sizes := []int64{0, 1 << 20}
	s, err := r.Sweep(sizes, edge32(t))
	require.NoError(t, err)
	rows := SweepRows([]*Report{r}, []TrafficSeries{s})
	require.Len(t, rows, 2)
	assert.Equal(t, r.StreamBytes, rows[0].DRAMBytes)
	assert.Equal(t, r.CompulsoryBytes, rows[1].DRAMBytes)
	assert.Equal(t, float64(r.CompulsoryBytes)/2, rows[1].DRAMBytesPerImage)
	require.NotNil(t, rows[1].SimDRAMPerImage)
	assert.Equal(t, float64(s.Engine[1])/2, *rows[1].SimDRAMPerImage)

	head := SweepCSVHeader()
	assert.Equal(t, []string{"model", "form", "sram_bytes", "dram_bytes", "dram_bytes_per_image", "spilled_buffers", "sim_dram_bytes_per_image"}, head)
	var buf bytes.Buffer
	require.NoError(t, WriteSweepCSV(&buf, rows))
	recs := readCSV(t, buf.Bytes())
	require.Len(t, recs, 3)
	assert.Equal(t, []string{"residual", "train", "1048576", strconv.FormatInt(2*S*2, 10), strconv.Itoa(S * 2), "0"}, recs[2][:6])

	noHW := SweepRows([]*Report{r}, []TrafficSeries{{Points: s.Points}})
	assert.Equal(t, "", noHW[0].CSVRecord()[6], "no hardware: no simulator column")
	b, err := json.Marshal(noHW[0])
	require.NoError(t, err)
	assert.NotContains(t, jsonKeys(t, b), "sim_dram_bytes_per_image")
}

// TestFusionSummary checks the plans of the three-layer chain from depth 2: layer by layer
// first, then depths 2 and 3, the best mix and the cache, as CSV and JSON.
func TestFusionSummary(t *testing.T) {
	cfg := edge32(t)
	fr := fusion(t, threeLayers(t), FusionOptions{Bits: 8, SRAMBytes: 64 << 10, MaxDepth: 3, Hardware: cfg})
	s := fr.Summary("deploy", 2)
	assert.Equal(t, [2]int{16, 16}, s.Input)
	assert.Equal(t, int64(64<<10), s.SRAMBytes)
	assert.Equal(t, "edge-32", s.Hardware)
	var plans []string
	for _, p := range s.Plans {
		plans = append(plans, p.Plan)
		assert.Equal(t, fr.LayerByLayer.DRAMBytes-p.DRAMBytes, p.SavedBytes, p.Plan)
	}
	assert.Equal(t, []string{"layer-by-layer", "depth-2", "depth-3", "best", "cache"}, plans)
	assert.Equal(t, fr.Depths[2].DRAMBytes, s.Plans[2].DRAMBytes)
	assert.Equal(t, 3, s.Plans[2].Depth)
	assert.Equal(t, 1, s.Plans[2].Segments, "depth 3 fuses the whole chain")
	assert.Equal(t, fr.Cache.DRAMBytes, s.Plans[4].DRAMBytes)
	assert.Equal(t, []string{"depth-1", "depth-2", "depth-3", "best", "cache"}, func() []string {
		var p []string
		for _, r := range fr.Summary("deploy", 1).Plans {
			p = append(p, r.Plan)
		}
		return p
	}())

	head := FusionCSVHeader()
	assert.Len(t, head, 14)
	assert.NotContains(t, head, "dram_bytes", "CSV is per image")
	var buf bytes.Buffer
	require.NoError(t, WriteFusionCSV(&buf, []*FusionSummary{s, s}))
	recs := readCSV(t, buf.Bytes())
	require.Len(t, recs, 1+2*5)
	assert.Equal(t, head, recs[0])
	r3 := recs[3]
	assert.Equal(t, []string{"three", "deploy", "depth-3", "3"}, r3[:4])
	v, err := strconv.ParseFloat(r3[4], 64)
	require.NoError(t, err)
	assert.Equal(t, float64(fr.Depths[2].DRAMBytes), v)

	b, err := json.Marshal(s)
	require.NoError(t, err)
	assert.Equal(t, []string{"batch", "best_segments", "bits", "chains", "floor_dram_bytes", "form", "hardware",
		"input", "model", "plans", "sram_bytes"}, jsonKeys(t, b))
	var back FusionSummary
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, s.Plans, back.Plans, "JSON round trip")
}
