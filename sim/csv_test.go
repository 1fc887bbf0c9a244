package sim_test

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/sim"
)

// TestResultCSV writes a two-layer run on edge-32 as CSV and reads it back: the documented 24
// columns, a row per layer and a total row, the numbers exactly the result's.
func TestResultCSV(t *testing.T) {
	cfg, err := hw.Resolve("edge-32")
	require.NoError(t, err)
	layers := []sim.Layer{
		{Name: "conv1", Kind: sim.Conv, InH: 32, InW: 32, InC: 3, OutC: 16, KH: 3, KW: 3, PadH: 1, PadW: 1},
		{Name: "conv2", Kind: sim.Conv, InH: 32, InW: 32, InC: 16, OutC: 16, KH: 3, KW: 3, PadH: 1, PadW: 1, StrideH: 2, StrideW: 2},
	}
	res, err := sim.Simulate(cfg, layers, sim.Options{ChainResidency: true})
	require.NoError(t, err)

	head := sim.CSVHeader()
	assert.Len(t, head, 24)
	assert.Equal(t, []string{"layer", "kind", "m", "n", "k", "groups", "folds", "macs", "cycles"}, head[:9])
	assert.Equal(t, "latency_s", head[len(head)-1])
	assert.Len(t, res.Layers[0].CSVRecord(), len(head))

	var buf bytes.Buffer
	require.NoError(t, res.WriteCSV(&buf))
	recs, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 1+2+1)
	assert.Equal(t, head, recs[0])
	col := map[string]int{}
	for i, c := range head {
		col[c] = i
	}
	for i, want := range append(res.Layers, res.Total) {
		rec := recs[1+i]
		require.Len(t, rec, len(head))
		name := want.Name
		if name == "" {
			name = "total"
		}
		assert.Equal(t, name, rec[col["layer"]])
		assert.Equal(t, strconv.FormatInt(want.MACs, 10), rec[col["macs"]])
		assert.Equal(t, strconv.FormatInt(want.Cycles, 10), rec[col["cycles"]])
		assert.Equal(t, strconv.FormatInt(want.StallCycles, 10), rec[col["stall_cycles"]])
		assert.Equal(t, strconv.FormatBool(want.OutputOnChip), rec[col["output_on_chip"]])
		e, err := strconv.ParseFloat(rec[col["energy_j"]], 64)
		require.NoError(t, err)
		assert.Equal(t, want.EnergyJ, e, "energy reads back exactly")
		u, err := strconv.ParseFloat(rec[col["utilization"]], 64)
		require.NoError(t, err)
		assert.Equal(t, want.Utilization, u)
	}
	// MACs in closed form: Hout·Wout·Cout·Cin·3·3; conv1 keeps its output on chip.
	const mac1, mac2 = 32 * 32 * 16 * 3 * 9, 16 * 16 * 16 * 16 * 9
	assert.Equal(t, []string{"conv1", strconv.Itoa(mac1), "true"},
		[]string{recs[1][0], recs[1][col["macs"]], recs[1][col["output_on_chip"]]})
	assert.Equal(t, []string{"total", strconv.Itoa(mac1 + mac2), strconv.FormatInt(res.Layers[0].Cycles+res.Layers[1].Cycles, 10)},
		[]string{recs[3][0], recs[3][col["macs"]], recs[3][col["cycles"]]})
}
