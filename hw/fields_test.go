package hw

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPresetsRoundTrip: every preset → YAML → Parse gives the identical Config, and the
// YAML of the result is byte-identical (the canonical form is a fixed point).
func TestPresetsRoundTrip(t *testing.T) {
	for _, p := range Presets() {
		y := p.YAML()
		back, err := Parse(p.Name+".yaml", y)
		require.NoError(t, err, "%s:\n%s", p.Name, y)
		assert.Equal(t, p, back, p.Name)
		assert.Equal(t, string(y), string(back.YAML()), p.Name)
	}
}

// TestRandomRoundTrip: random valid variants of the presets, changed field by field
// through the table (Field.SetValue), survive YAML → Parse unchanged.
func TestRandomRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	sizes := []string{"16KiB", "64KiB", "100kB", "1.5MiB", "3MB", "24MiB"}
	for i := range 300 {
		c := Presets()[rng.IntN(len(Presets()))]
		require.NoError(t, c.Set("array.rows", strconv.Itoa(1+rng.IntN(128))))
		require.NoError(t, c.Set("array.cols", strconv.Itoa(1+rng.IntN(128))))
		require.NoError(t, c.Set("dataflow", string(Dataflows()[rng.IntN(3)])))
		require.NoError(t, c.Set("data_bits", strconv.Itoa(1+rng.IntN(16))))
		require.NoError(t, c.Set("sram.ifmap", sizes[rng.IntN(len(sizes))]))
		require.NoError(t, c.Set("sram.accumulator", sizes[rng.IntN(len(sizes))]))
		f, err := LookupField("clock")
		require.NoError(t, err)
		require.NoError(t, f.SetValue(c, float64(1+rng.IntN(2000))*1e6))
		f, _ = LookupField("energy.dram_access_per_byte")
		require.NoError(t, f.SetValue(c, float64(rng.IntN(1000))/8))
		// Grow the SRAMs that the new array needs (the fold rule), as a sweep would.
		iw, fw, ow := c.MinSRAMWords()
		bpw := int64(c.BytesPerWord())
		c.IfmapSRAMBytes = max(c.IfmapSRAMBytes, 2*bpw*iw)
		c.FilterSRAMBytes = max(c.FilterSRAMBytes, 2*bpw*fw)
		c.OfmapSRAMBytes = max(c.OfmapSRAMBytes, 2*bpw*ow)
		require.NoError(t, c.Validate(), "case %d", i)
		back, err := Parse("random.yaml", c.YAML())
		require.NoError(t, err, "case %d:\n%s", i, c.YAML())
		assert.Equal(t, c, back, "case %d", i)
	}
}

// TestFieldsCoverConfig: every settable leaf of Config (not Name's siblings computed
// elsewhere) is reachable through exactly one field of the table, so a field added to
// Config without a row here fails.
func TestFieldsCoverConfig(t *testing.T) {
	c := &Config{}
	seen := map[uintptr]string{}
	for _, f := range Fields() {
		p := reflect.ValueOf(f.ptr(c)).Pointer()
		if prev, dup := seen[p]; dup {
			t.Errorf("%s and %s share storage", prev, f.Path)
		}
		seen[p] = f.Path
	}
	var leaves func(v reflect.Value) int
	leaves = func(v reflect.Value) int {
		if v.Kind() != reflect.Struct {
			return 1
		}
		n := 0
		for i := range v.NumField() {
			n += leaves(v.Field(i))
		}
		return n
	}
	assert.Equal(t, leaves(reflect.ValueOf(*c)), len(seen), "Config leaves vs table fields")
	assert.Len(t, topLevelKeys(), 12)
	assert.Equal(t, []string{"ifmap", "filter", "ofmap", "accumulator"}, keysOf(sectionFields("sram")))
}

func TestGetSet(t *testing.T) {
	c, err := Preset("tpu-v1")
	require.NoError(t, err)
	for path, want := range map[string]string{
		"name": "tpu-v1", "array.rows": "256", "dataflow": "ws", "clock": "700MHz",
		"sram.accumulator": "4MiB", "dram.bandwidth": "34GB/s", "energy.dram_access_per_byte": "160pJ", "acc_bits": "32", "process_nm": "28", "dram.kind": "ddr3",
	} {
		got, err := c.Get(path)
		require.NoError(t, err, path)
		assert.Equal(t, want, got, path)
	}
	require.NoError(t, c.Set("sram.ifmap", "128KiB"))
	assert.EqualValues(t, 128<<10, c.IfmapSRAMBytes)
	require.NoError(t, c.Set("dram.bandwidth", "1.5 GB/s"))
	assert.Equal(t, 1.5e9, c.DRAMBandwidth)
	require.NoError(t, c.Set("dataflow", "os"))
	assert.Equal(t, OutputStationary, c.Dataflow)

	f, err := LookupField("array.cols")
	require.NoError(t, err)
	require.NoError(t, f.SetValue(c, 48))
	assert.Equal(t, 48, c.Cols)
	assert.Equal(t, 48.0, f.Value(c))
	assert.Error(t, f.SetValue(c, 4.5))

	// A Go-built Config with AccBits 0 reads as the default width and validates.
	c.AccBits = 0
	got, _ := c.Get("acc_bits")
	assert.Equal(t, "32", got)
	assert.NoError(t, c.Validate())
}

func TestGetSetErrors(t *testing.T) {
	c := Default()
	_, err := c.Get("sram.ifmp")
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrUnknownField))
	assert.Contains(t, err.Error(), `did you mean sram.ifmap`)
	for path, text := range map[string]string{
		"sram.ifmap": "lots", "clock": "fast", "array.rows": "3.5", "dataflow": "rs", "dram.bandwidth": "16GB",
	} {
		err := c.Set(path, text)
		if assert.Error(t, err, "%s=%s", path, text) {
			assert.Contains(t, err.Error(), path+": ")
		}
	}
	assert.Equal(t, Default(), c, "failed Sets leave the Config unchanged")
	name, _ := LookupField("name")
	assert.Error(t, name.SetValue(c, 1))
}

// TestRangeMessages: the table's ranges produce the messages Validate has always printed.
func TestRangeMessages(t *testing.T) {
	c := Default()
	c.Rows, c.DataBits, c.ClockHz, c.AccumBytes, c.Energy.LeakageW = 0, 65, -1, -2, -3
	err := c.Validate()
	require.Error(t, err)
	assert.Equal(t, "array.rows: must be between 1 and 65536, got 0\n"+
		"clock: must be at least 1Hz, got -1Hz\n"+
		"data_bits: must be between 1 and 64, got 65\n"+
		"energy.leakage: must not be negative, got -3W\n"+
		"sram.accumulator: must not be negative, got -2B", err.Error())
	assert.Equal(t, "[1, 65536]", fieldIndex["array.rows"].Range.Interval())
	assert.Equal(t, "[1, 1e+15]", fieldIndex["clock"].Range.Interval())
	assert.Equal(t, "(0, +Inf)", positiveRange.Interval())
	assert.False(t, Range{Min: 0, Max: 1}.Contains(2))
	assert.Equal(t, "must be at least 2", Range{Min: 2, Max: posInf()}.String())
}

func posInf() float64 { return positiveRange.Max }
