package hw

import "fmt"

// Dataflow names which operand stays in the processing elements while the others stream.
type Dataflow string

// The three systolic dataflows of SCALE-Sim and design.md §4.
const (
	OutputStationary Dataflow = "os"
	WeightStationary Dataflow = "ws"
	InputStationary  Dataflow = "is"
)

// Dataflows returns the valid dataflows in the order os, ws, is.
func Dataflows() []Dataflow {
	return []Dataflow{OutputStationary, WeightStationary, InputStationary}
}

// Valid reports whether d is one of os, ws and is.
func (d Dataflow) Valid() bool {
	return d == OutputStationary || d == WeightStationary || d == InputStationary
}

// Energy is the per-access energy table, in picojoules. A zero MAC, SRAM or DRAM energy
// means "derived from the design" (Config.Energies: the operand width and process node, each
// SRAM's size, the DRAM kind); a non-zero one overrides the derived value.
type Energy struct {
	MACpJ         float64 // one multiply-accumulate; 0: MACpJ(DataBits, ProcessNM)
	SRAMpJPerByte float64 // one byte read from or written to any on-chip SRAM; 0: by each SRAM's size
	DRAMpJPerByte float64 // one byte moved to or from DRAM; 0: by the DRAM kind
	LeakageW      float64 // static power in watts, charged over the latency (0: none)
}

// DefaultAccBits is the accumulator width a hardware file gets when it has no acc_bits.
const DefaultAccBits = 32

// Config describes one accelerator: a systolic array with three double-buffered operand
// SRAMs in front of a DRAM. A Config is validated once when loaded and never mutated after;
// every size is in bytes, every rate in its SI base unit (Hz, bytes/s).
//
// A Config holds no pointers, so a value copy (or Clone) is a deep copy: to explore a
// variant, copy it, change fields and call Validate on the copy.
type Config struct {
	Name        string
	Description string // one line, shown by `vggsim presets`
	Source      string // where the numbers come from (a paper, a datasheet), for docs

	Rows, Cols int      // systolic array height (R) and width (C)
	Dataflow   Dataflow // os, ws or is

	ClockHz   float64 // array clock in Hz
	ProcessNM int     // process node in nm, for the derived energies; 0 means 45
	DataBits  int     // operand width in bits (ifmap, filter, ofmap words)
	AccBits   int     // accumulator width in bits (partial sums); 0 means 32

	IfmapSRAMBytes  int64 // total ifmap SRAM (both halves of the double buffer)
	FilterSRAMBytes int64 // total filter SRAM
	OfmapSRAMBytes  int64 // total ofmap SRAM
	AccumBytes      int64 // on-chip partial-sum accumulator storage; 0 means none beyond the array

	DRAMBandwidth float64  // bytes per second between DRAM and the SRAMs
	DRAMKind      DRAMKind // ddr3, ddr4, lpddr4, gddr5 or hbm2, for the DRAM energy; "" means lpddr4

	Energy Energy
}

// Clone returns a copy of c that the caller may change.
func (c *Config) Clone() *Config {
	d := *c
	return &d
}

// PEs returns the number of processing elements, Rows·Cols.
func (c *Config) PEs() int { return c.Rows * c.Cols }

// PeakOPS returns the peak arithmetic rate in operations per second, counting a MAC as two
// operations: 2·Rows·Cols·ClockHz.
func (c *Config) PeakOPS() float64 { return 2 * float64(c.PEs()) * c.ClockHz }

// BytesPerWord returns the bytes one operand word takes in SRAM and DRAM: DataBits rounded
// up to whole bytes (words are byte-aligned, so a 4-bit word takes one byte).
func (c *Config) BytesPerWord() int { return max(1, (c.DataBits+7)/8) }

// AccBitsOrDefault returns AccBits, or DefaultAccBits when AccBits is 0.
func (c *Config) AccBitsOrDefault() int {
	if c.AccBits == 0 {
		return DefaultAccBits
	}
	return c.AccBits
}

// AccBytesPerWord returns the bytes one partial sum takes: AccBitsOrDefault rounded up to
// whole bytes.
func (c *Config) AccBytesPerWord() int { return max(1, (c.AccBitsOrDefault()+7)/8) }

// SRAMBytes returns the total on-chip storage: the three operand SRAMs and the accumulators.
func (c *Config) SRAMBytes() int64 {
	return c.IfmapSRAMBytes + c.FilterSRAMBytes + c.OfmapSRAMBytes + c.AccumBytes
}

// MinSRAMWords returns the fewest words each operand SRAM's half must hold for the array to
// run one fold (see docs/hardware.md, "SRAM sizes"): the SRAM of the stationary operand must
// take one full R×C fold; the streamed operands one array edge per cycle.
//
//	dataflow  ifmap  filter  ofmap
//	os        R      C       C
//	ws        R      R·C     C
//	is        R·C    R       C
func (c *Config) MinSRAMWords() (ifmap, filter, ofmap int64) {
	r, k := int64(c.Rows), int64(c.Cols)
	switch c.Dataflow {
	case WeightStationary:
		return r, r * k, k
	case InputStationary:
		return r * k, r, k
	default:
		return r, k, k
	}
}

// MinSRAMBytes returns the smallest total sizes of the ifmap, filter and ofmap SRAMs that
// Validate accepts: twice (for the double buffer) MinSRAMWords in bytes.
func (c *Config) MinSRAMBytes() (ifmap, filter, ofmap int64) {
	i, f, o := c.MinSRAMWords()
	b := 2 * int64(c.BytesPerWord())
	return b * i, b * f, b * o
}

// String returns a one-line summary such as
// "edge-32: 32x32 os, 1GHz, 8-bit, SRAM 64KiB/64KiB/64KiB, DRAM 16GB/s".
func (c *Config) String() string {
	s := fmt.Sprintf("%s: %dx%d %s, %s, %d-bit, SRAM %s/%s/%s", c.Name, c.Rows, c.Cols, c.Dataflow,
		FormatFrequency(c.ClockHz), c.DataBits,
		FormatSize(c.IfmapSRAMBytes), FormatSize(c.FilterSRAMBytes), FormatSize(c.OfmapSRAMBytes))
	if c.AccumBytes > 0 {
		s += " + " + FormatSize(c.AccumBytes) + " acc"
	}
	return s + ", DRAM " + FormatBandwidth(c.DRAMBandwidth)
}
