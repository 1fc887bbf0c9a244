package hw

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSRAMEnergyCurve: the size law passes through Horowitz's 45 nm points (8 KiB exact,
// 32 KiB exact, 1 MiB within 15 %), is strictly increasing in size, and scales with the node.
func TestSRAMEnergyCurve(t *testing.T) {
	assert.InDelta(t, 1.25, SRAMpJPerByte(8<<10, 45), 1e-12)
	assert.InDelta(t, 2.5, SRAMpJPerByte(32<<10, 45), 1e-12)
	assert.InDelta(t, 1.25*math.Sqrt(128), SRAMpJPerByte(1<<20, 45), 1e-12)
	assert.InEpsilon(t, 12.5, SRAMpJPerByte(1<<20, 45), 0.15, "Horowitz: 100 pJ per 64 bits at 1 MB")
	ratio := SRAMpJPerByte(1<<20, 45) / SRAMpJPerByte(8<<10, 45)
	assert.True(t, ratio > 9 && ratio < 12, "8 KiB → 1 MiB costs %.2f× more per byte, want about 10×", ratio)
	assert.Equal(t, SRAMpJPerByte(64<<10, 0), SRAMpJPerByte(64<<10, DefaultProcessNM))
	assert.InDelta(t, SRAMpJPerByte(64<<10, 45)*28/45, SRAMpJPerByte(64<<10, 28), 1e-12)
	assert.Zero(t, SRAMpJPerByte(0, 45))
	prev := 0.0
	for s := int64(1); s <= MaxSRAMBytes; s = s*3/2 + 1 {
		e := SRAMpJPerByte(s, 45)
		require.Greater(t, e, prev, "size %d", s)
		prev = e
	}
}

// TestDRAMKinds pins each kind's figure (docs/hardware.md cites them) and their order.
func TestDRAMKinds(t *testing.T) {
	want := map[DRAMKind]float64{DDR3: 20, GDDR5: 14, DDR4: 12.8, LPDDR4: 6, HBM2: 3.9}
	require.Len(t, DRAMKinds(), len(want))
	prev := math.Inf(1)
	for _, k := range DRAMKinds() {
		assert.True(t, k.Valid(), k)
		assert.Equal(t, want[k], k.PJPerBit(), k)
		assert.Equal(t, 8*want[k], k.PJPerByte(), k)
		assert.Less(t, k.PJPerBit(), prev, "DRAMKinds is ordered by energy")
		prev = k.PJPerBit()
	}
	assert.False(t, DRAMKind("DDR3").Valid())
	assert.Zero(t, DRAMKind("sdram").PJPerBit())
	assert.InDelta(t, 20*(1.2/1.5)*(1.2/1.5), DDR4.PJPerBit(), 1e-12, "DDR4 = DDR3 at 1.2 V instead of 1.5 V")
}

// TestEnergies: the derived table of a preset in closed form, and overrides winning.
func TestEnergies(t *testing.T) {
	tpu, err := Preset("tpu-v1")
	require.NoError(t, err)
	e := tpu.Energies()
	s := 28.0 / 45
	assert.InDelta(t, 0.2*s, e.MACpJ, 1e-15)
	assert.InDelta(t, 1.25*math.Sqrt(12<<20/8192.0)*s, e.IfmapSRAMpJPerByte, 1e-12) // 12 MiB: 35.4·0.62 = 22.0 pJ/B
	assert.InDelta(t, 1.25*math.Sqrt(256<<10/8192.0)*s, e.FilterSRAMpJPerByte, 1e-12)
	assert.Equal(t, e.IfmapSRAMpJPerByte, e.OfmapSRAMpJPerByte)
	assert.InDelta(t, 1.25*math.Sqrt(4<<20/8192.0)*s, e.AccumpJPerByte, 1e-12, "partial sums live in the 4 MiB accumulators")
	assert.Equal(t, 160.0, e.DRAMpJPerByte, "DDR3")
	assert.False(t, e.OverriddenSRAMEnergy)

	ey, _ := Preset("eyeriss")
	assert.InDelta(t, 0.2*4*65/45, ey.Energies().MACpJ, 1e-15, "16-bit MAC at 65 nm")

	edge := Default()
	assert.Equal(t, edge.Energies().IfmapSRAMpJPerByte, edge.Energies().AccumpJPerByte, "no accumulator: partial sums in the ofmap SRAM")
	assert.Equal(t, 48.0, edge.Energies().DRAMpJPerByte, "LPDDR4 by default")

	// Explicit fields override the derived ones; a Go-built Config without kind or node
	// gets the defaults.
	edge.Energy = FlatEnergy()
	f := edge.Energies()
	assert.Equal(t, EnergyTable{MACpJ: 0.2, IfmapSRAMpJPerByte: 1.2, FilterSRAMpJPerByte: 1.2, OfmapSRAMpJPerByte: 1.2,
		AccumpJPerByte: 1.2, DRAMpJPerByte: 20, OverriddenSRAMEnergy: true}, f)
	bare := &Config{DataBits: 8, IfmapSRAMBytes: 8 << 10}
	assert.Equal(t, 48.0, bare.Energies().DRAMpJPerByte)
	assert.InDelta(t, 1.25, bare.Energies().IfmapSRAMpJPerByte, 1e-12)
}

// TestEnergyFieldsParse: a file's energies override, zero is refused in a file (it would
// read as "derived"), the DRAM kind is checked with a suggestion.
func TestEnergyFieldsParse(t *testing.T) {
	base := "name: x\narray: {rows: 4, cols: 4}\ndataflow: os\nclock: 1GHz\ndata_bits: 8\nsram: {ifmap: 1KiB, filter: 1KiB, ofmap: 1KiB}\n"
	c, err := Parse("a.yaml", []byte(base+"dram: {bandwidth: 1GB/s, kind: hbm2}\nenergy: {dram_access_per_byte: 7pJ}\n"))
	require.NoError(t, err)
	assert.Equal(t, 7.0, c.Energies().DRAMpJPerByte)
	assert.Equal(t, HBM2, c.DRAMKind)
	_, err = Parse("b.yaml", []byte(base+"dram: {bandwidth: 1GB/s, kind: HBM2}\nenergy: {mac: 0pJ}\n"))
	require.Error(t, err)
	assert.Equal(t, `b.yaml:7:32: dram.kind: unknown DRAM kind "HBM2", want one of ddr3, gddr5, ddr4, lpddr4, hbm2 (lowercase: hbm2)`+"\n"+
		`b.yaml:8:15: energy.mac: must be positive, got 0pJ`, err.Error())
}
