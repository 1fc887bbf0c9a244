package scalesim

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vggsim/vggsim/sim"
)

// TestTopologyLayerLimit is issue 13 item 4: a 40-byte depthwise row of 1,048,576
// channels used to expand into a million layers (830 MB). It is refused before expanding,
// with the position of the channel count, and allowed when the limit is raised.
func TestTopologyLayerLimit(t *testing.T) {
	row := "l\nxDP, 1, 1, 1, 1, 1048576, 1, 1,\n"
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	_, err := ParseTopology("dp.csv", []byte(row), AutoFormat)
	runtime.ReadMemStats(&m1)
	require.Error(t, err)
	assert.Equal(t, "dp.csv:2:18: depthwise row of 1048576 channels makes more than 65536 layers (set $VGGSIM_MAX_TOPOLOGY_LAYERS to allow more)", err.Error())
	assert.Less(t, m1.TotalAlloc-m0.TotalAlloc, uint64(1<<20))

	// Plain rows count too.
	many := "l\n" + strings.Repeat("a, 1, 1, 1, 1, 1, 1, 1,\n", 5)
	_, err = ParseTopologyLimit("m.csv", []byte(many), AutoFormat, 4)
	require.Error(t, err)
	assert.Equal(t, "m.csv:6:1: more than 4 layers (set $VGGSIM_MAX_TOPOLOGY_LAYERS to allow more)", err.Error())

	t.Setenv(EnvMaxLayers, "5")
	ls, err := ParseTopology("m.csv", []byte(many), AutoFormat)
	require.NoError(t, err)
	assert.Len(t, ls, 5)
	t.Setenv(EnvMaxLayers, "x")
	_, err = ParseTopology("m.csv", []byte(many), AutoFormat)
	assert.EqualError(t, err, `$VGGSIM_MAX_TOPOLOGY_LAYERS: want a positive integer, got "x"`)
}

// TestWriteReportsAllOrNothing is issue 13 item 6 for report directories: when one report
// cannot be written, the directory keeps the previous run's three reports untouched (it
// used to hold one new truncated file beside two old ones).
func TestWriteReportsAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	old := []sim.ScaleSimReport{{LayerID: 0, TotalCycles: 111}}
	require.NoError(t, WriteReports(dir, old))
	before := map[string]string{}
	for _, f := range []string{ComputeReportFile, DetailedReportFile, BandwidthReportFile} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		before[f] = string(b)
	}
	// Make the last report unwritable by putting a directory in its place.
	require.NoError(t, os.Remove(filepath.Join(dir, BandwidthReportFile)))
	require.NoError(t, os.Mkdir(filepath.Join(dir, BandwidthReportFile), 0o755))
	err := WriteReports(dir, []sim.ScaleSimReport{{LayerID: 0, TotalCycles: 222}, {LayerID: 1, TotalCycles: 333}})
	require.Error(t, err)
	assert.Equal(t, "write "+filepath.Join(dir, BandwidthReportFile)+": is a directory", err.Error())
	for _, f := range []string{ComputeReportFile, DetailedReportFile} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Equal(t, before[f], string(b), f)
	}
	es, _ := os.ReadDir(dir)
	assert.Len(t, es, 3, "no temporary file left behind")
}

// FuzzTopologyLimit fuzzes the topology CSV under a small layer limit: never more layers
// than the limit (depthwise rows included), and memory proportional to the input.
func FuzzTopologyLimit(f *testing.F) {
	f.Add([]byte("h\nxDP, 1, 1, 1, 1, 1048576, 1, 1,\n"))
	f.Add([]byte("Layer, M, N, K,\ng, 3, 4, 5,\n"))
	f.Add([]byte("h\nx, 4, 4, 2, 2, 1, 1, 2,\nyDP, 3, 3, 1, 1, 20, 2, 1, 1,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		ls, err := ParseTopologyLimit("f.csv", data, AutoFormat, 64)
		runtime.ReadMemStats(&m1)
		if err != nil && !strings.HasPrefix(err.Error(), "f.csv") {
			t.Fatalf("error without the file name: %v", err)
		}
		if len(ls) > 64 {
			t.Fatalf("%d layers under a limit of 64", len(ls))
		}
		if a := m1.TotalAlloc - m0.TotalAlloc; a > 1<<20+64*uint64(len(data)) {
			t.Fatalf("allocated %d bytes for %d bytes of CSV", a, len(data))
		}
	})
}
