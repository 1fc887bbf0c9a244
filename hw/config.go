package hw

// Dataflow names which operand stays in the processing elements while the others stream.
type Dataflow string

// The three systolic dataflows of SCALE-Sim and design.md §4.
const (
	OutputStationary Dataflow = "os"
	WeightStationary Dataflow = "ws"
	InputStationary  Dataflow = "is"
)

// Energy is the per-access energy table, in picojoules.
type Energy struct {
	MACpJ         float64 // one multiply-accumulate
	SRAMpJPerByte float64 // one byte read from or written to an on-chip SRAM
	DRAMpJPerByte float64 // one byte moved to or from DRAM
	LeakageW      float64 // static power in watts, charged over the latency (0: none)
}

// Config describes one accelerator: a systolic array with three double-buffered operand
// SRAMs in front of a DRAM. A Config is validated once when loaded and never mutated after;
// every size is in bytes, every rate in its SI base unit (Hz, bytes/s).
type Config struct {
	Name        string
	Description string // one line, shown by `vggsim presets`
	Source      string // where the numbers come from (a paper, a datasheet), for docs

	Rows, Cols int      // systolic array height (R) and width (C)
	Dataflow   Dataflow // os, ws or is

	ClockHz  float64 // array clock in Hz
	DataBits int     // operand width in bits (ifmap, filter, ofmap words)
	AccBits  int     // accumulator width in bits (partial sums); 0 means 32

	IfmapSRAMBytes  int64 // total ifmap SRAM (both halves of the double buffer)
	FilterSRAMBytes int64 // total filter SRAM
	OfmapSRAMBytes  int64 // total ofmap SRAM
	AccumBytes      int64 // on-chip partial-sum accumulator storage; 0 means none beyond the array

	DRAMBandwidth float64 // bytes per second between DRAM and the SRAMs

	Energy Energy
}
