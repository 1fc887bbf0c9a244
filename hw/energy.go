package hw

import (
	"math"
	"slices"
)

// The energy model (docs/hardware.md, "Energy"): every energy an hw.Config's energy section
// leaves out (zero) is derived from the design — the MAC from the operand width and the
// process node, each SRAM's cost per byte from its size and the node, the DRAM's from its
// kind. An energy given in the file (or set in Go) overrides the derived one.

// Anchors of the derived energies: Horowitz, "Computing's energy problem (and what we can
// do about it)", ISSCC 2014, 45 nm.
const (
	// ReferenceProcessNM is the node the anchors are measured at; a Config's ProcessNM
	// scales MAC and SRAM energies by ProcessNM/ReferenceProcessNM.
	ReferenceProcessNM = 45
	// DefaultProcessNM is the node a Config without process_nm is taken to be built in.
	DefaultProcessNM = ReferenceProcessNM
	// MAC8pJ is one 8-bit multiply-accumulate at 45 nm (an 8-bit multiply, 0.2 pJ).
	MAC8pJ = 0.2
	// SRAM8KiBpJPerByte is one byte read from or written to an 8 KiB SRAM at 45 nm
	// (Horowitz: 10 pJ per 64-bit access, 1.25 pJ per byte).
	SRAM8KiBpJPerByte = 1.25
)

// MaxProcessNM is the largest process node a hardware file may give, in nanometres.
const MaxProcessNM = 1000

// SRAMpJPerByte returns the energy in pJ of one byte read from or written to an SRAM of
// size bytes built in a processNM process (0: DefaultProcessNM):
//
//	e(S) = 1.25 pJ · √(S / 8 KiB) · processNM / 45
//
// The square root is the wire-length law of a square array (an access drives a word line
// and a bit line across √S cells); through Horowitz's 45 nm points it gives 1.25 pJ/B at
// 8 KiB and 2.5 at 32 KiB (both exact) and 14.1 at 1 MiB (Horowitz: 12.5, +13 %). It is
// strictly increasing in size and 0 for size ≤ 0.
func SRAMpJPerByte(size int64, processNM int) float64 {
	if size <= 0 {
		return 0
	}
	return SRAM8KiBpJPerByte * math.Sqrt(float64(size)/8192) * nodeScale(processNM)
}

// MACpJ returns the energy in pJ of one multiply-accumulate of dataBits-bit operands in a
// processNM process (0: DefaultProcessNM): 0.2 pJ · (dataBits/8)² · processNM/45. A
// multiplier's area and energy grow with the square of its width (Horowitz: 8-bit integer
// multiply 0.2 pJ, 32-bit 3.1 pJ ≈ 16 × 0.2).
func MACpJ(dataBits, processNM int) float64 {
	b := float64(dataBits) / 8
	return MAC8pJ * b * b * nodeScale(processNM)
}

// nodeScale returns processNM/45, first-order dynamic-energy scaling at constant voltage
// (switched capacitance proportional to feature size).
func nodeScale(processNM int) float64 {
	if processNM <= 0 {
		processNM = DefaultProcessNM
	}
	return float64(processNM) / ReferenceProcessNM
}

// DRAMKind names the DRAM technology behind the link; it sets the DRAM energy per byte.
type DRAMKind string

// The DRAM kinds, with their energy per bit moved (DRAMKind.PJPerBit; sources in
// docs/hardware.md).
const (
	DDR3   DRAMKind = "ddr3"
	DDR4   DRAMKind = "ddr4"
	LPDDR4 DRAMKind = "lpddr4"
	GDDR5  DRAMKind = "gddr5"
	HBM2   DRAMKind = "hbm2"
)

// DefaultDRAMKind is the DRAM kind of a hardware file without dram.kind.
const DefaultDRAMKind = LPDDR4

// dramPJPerBit is each kind's energy per bit read or written, interface included.
var dramPJPerBit = map[DRAMKind]float64{
	DDR3:   20,   // Horowitz ISSCC 2014: 1.3–2.6 nJ per 64-bit access (20–40 pJ/bit), low end
	DDR4:   12.8, // DDR3 × (1.2 V / 1.5 V)²: the same I/O and core at DDR4's supply
	LPDDR4: 6,    // low-swing unterminated I/O; vendors' LPDDR4 figures of 4–8 pJ/bit
	GDDR5:  14,   // O'Connor et al., Fine-Grained DRAM, MICRO 2017, Fig. 1
	HBM2:   3.9,  // O'Connor et al., MICRO 2017: HBM2 3.9 pJ/bit
}

// DRAMKinds returns the valid DRAM kinds, from the most to the least energy per bit.
func DRAMKinds() []DRAMKind { return []DRAMKind{DDR3, GDDR5, DDR4, LPDDR4, HBM2} }

// Valid reports whether k is one of DRAMKinds.
func (k DRAMKind) Valid() bool { return slices.Contains(DRAMKinds(), k) }

// PJPerBit returns the energy in pJ of one bit moved to or from a DRAM of kind k, or 0 for
// an unknown kind.
func (k DRAMKind) PJPerBit() float64 { return dramPJPerBit[k] }

// PJPerByte returns 8·PJPerBit.
func (k DRAMKind) PJPerByte() float64 { return 8 * k.PJPerBit() }

// DRAMKindOrDefault returns DRAMKind, or DefaultDRAMKind when it is empty.
func (c *Config) DRAMKindOrDefault() DRAMKind {
	if c.DRAMKind == "" {
		return DefaultDRAMKind
	}
	return c.DRAMKind
}

// ProcessNMOrDefault returns ProcessNM, or DefaultProcessNM when it is 0.
func (c *Config) ProcessNMOrDefault() int {
	if c.ProcessNM == 0 {
		return DefaultProcessNM
	}
	return c.ProcessNM
}

// EnergyTable is a Config's energy per access with every derived value filled in, in pJ
// (leakage in W): what package sim charges.
type EnergyTable struct {
	MACpJ                float64 // one multiply-accumulate (also one vector op)
	IfmapSRAMpJPerByte   float64 // one byte read from or written to the ifmap SRAM
	FilterSRAMpJPerByte  float64 // … the filter SRAM
	OfmapSRAMpJPerByte   float64 // … the ofmap SRAM
	AccumpJPerByte       float64 // one partial-sum byte stored or read back (accumulator, else ofmap SRAM)
	DRAMpJPerByte        float64 // one byte moved to or from DRAM
	LeakageW             float64 // static power
	OverriddenSRAMEnergy bool    // energy.sram_access_per_byte was given: every SRAM costs it
}

// Energies returns c's energy table: the energy section's values where they are non-zero,
// else the derived ones (SRAMpJPerByte of each SRAM's size, MACpJ of DataBits, the DRAM
// kind's PJPerByte), all at c's process node.
func (c *Config) Energies() EnergyTable {
	node := c.ProcessNMOrDefault()
	t := EnergyTable{MACpJ: c.Energy.MACpJ, DRAMpJPerByte: c.Energy.DRAMpJPerByte, LeakageW: c.Energy.LeakageW}
	if t.MACpJ == 0 {
		t.MACpJ = MACpJ(c.DataBits, node)
	}
	if t.DRAMpJPerByte == 0 {
		t.DRAMpJPerByte = c.DRAMKindOrDefault().PJPerByte()
	}
	if s := c.Energy.SRAMpJPerByte; s != 0 {
		t.IfmapSRAMpJPerByte, t.FilterSRAMpJPerByte, t.OfmapSRAMpJPerByte = s, s, s
		t.AccumpJPerByte, t.OverriddenSRAMEnergy = s, true
		return t
	}
	t.IfmapSRAMpJPerByte = SRAMpJPerByte(c.IfmapSRAMBytes, node)
	t.FilterSRAMpJPerByte = SRAMpJPerByte(c.FilterSRAMBytes, node)
	t.OfmapSRAMpJPerByte = SRAMpJPerByte(c.OfmapSRAMBytes, node)
	t.AccumpJPerByte = t.OfmapSRAMpJPerByte
	if c.AccumBytes > 0 {
		t.AccumpJPerByte = SRAMpJPerByte(c.AccumBytes, node)
	}
	return t
}

// FlatEnergy returns a fixed table that overrides every derived energy: 0.2 pJ per MAC,
// 1.2 pJ per SRAM byte (any size), 20 pJ per DRAM byte, no leakage — the table of vggsim
// before energies depended on the design, kept for hand-worked examples and tests.
func FlatEnergy() Energy {
	return Energy{MACpJ: 0.2, SRAMpJPerByte: 1.2, DRAMpJPerByte: 20, LeakageW: 0}
}
