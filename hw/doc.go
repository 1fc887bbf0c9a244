// Package hw describes the accelerator that package sim simulates: one R×C systolic array
// with a dataflow (os, ws or is), a clock, operand and accumulator widths, three
// double-buffered operand SRAMs (ifmap, filter, ofmap) plus optional accumulator storage, a
// DRAM with a bandwidth, and a per-access energy table.
//
// # Contract
//
// A Config is a flat struct of plain values in base units: bytes, hertz, bytes per second,
// picojoules (energy per access) and watts (leakage). It comes from one of:
//
//   - Parse or Load: a YAML file, strict (unknown or duplicate keys are errors), with units
//     required where the schema says (docs/hardware.md is the reference);
//   - Preset, Presets, Default or Resolve: the presets embedded from presets/*.yaml, parsed
//     by the same code as user files;
//   - Go code, which should then call Validate.
//
// Parse checks syntax, types and units and then the same rules as Validate, and collects
// every problem before returning: the error is an ErrorList whose entries read
// "file:line:col: field.path: message", in file order. A Config returned without error
// satisfies every rule and is never changed by this package afterwards; the preset
// functions return fresh copies, so callers may change what they get. Defaults are filled
// in by Parse (acc_bits 32, process_nm 45, dram.kind lpddr4); energies left out stay 0,
// which means "derived from the design" (Config.Energies: the MAC from the word width and
// node, each SRAM's cost from its size, the DRAM's from its kind).
//
// # Invariants of a valid Config
//
//   - 1 ≤ Rows, Cols ≤ MaxArrayDim; Dataflow is os, ws or is.
//   - 1 Hz ≤ ClockHz ≤ 1000 THz; 1 B/s ≤ DRAMBandwidth ≤ 1000 TB/s; each SRAM ≤ 256 TiB
//     (beyond these the simulator's integer counts could overflow).
//   - 1 ≤ DataBits ≤ 64; DataBits ≤ AccBits ≤ 128 (AccBits 0 means 32 in a Config built in Go).
//   - The operand SRAMs are positive and each half holds one fold's operands
//     (Config.MinSRAMWords); AccumBytes ≥ 0; energies > 0 or 0 for derived; leakage ≥ 0.
//
// # One schema
//
// The fields table (Fields, hw/fields.go) is the schema written once: each key's dotted path
// ("sram.ifmap"), kind and unit, valid Range, JSON name and doc. Parse, Config.YAML, the
// range rules of Validate and `vggsim presets` all walk it; LookupField, Config.Get and
// Config.Set address fields by path, which is how sweeps name their axes.
//
// Words are byte-aligned: an operand word takes BytesPerWord bytes in SRAM and DRAM.
//
// This package depends on nothing in vggsim and reads no files except in Load and Resolve.
package hw
