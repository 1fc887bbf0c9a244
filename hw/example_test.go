package hw_test

import (
	"fmt"

	"github.com/vggsim/vggsim/hw"
)

// Parse reports every problem of a hardware file at once, each with its position and field.
func ExampleParse() {
	_, err := hw.Parse("chip.yaml", []byte(`name: chip
array: {rows: 256, cols: 256}
dataflow: ws
clock: 700
data_bits: 8
sram: {ifmap: 64KB/s, filter: 64KiB, ofmap: 1MiB}
dram: {bandwidth: 34GB/s}
`))
	fmt.Println(err)
	// Output:
	// chip.yaml:4:8: clock: "700" has no unit, want a frequency like 700MHz
	// chip.yaml:6:15: sram.ifmap: "64KB/s" is a bandwidth, want a size like 64KiB
	// chip.yaml:6:31: sram.filter: 64KiB is too small: each half of the double buffer must hold one 256x256 ws fold of 65536 filter words (1 byte each), want at least 128KiB
}

func ExamplePreset() {
	tpu, err := hw.Preset("tpu-v1")
	if err != nil {
		panic(err)
	}
	fmt.Println(tpu)
	fmt.Printf("%d PEs, %.1f TOPS peak, %s on chip\n", tpu.PEs(), tpu.PeakOPS()/1e12, hw.FormatSize(tpu.SRAMBytes()))
	// Output:
	// tpu-v1: 256x256 ws, 700MHz, 8-bit, SRAM 12MiB/256KiB/12MiB + 4MiB acc, DRAM 34GB/s
	// 65536 PEs, 91.8 TOPS peak, 28.25MiB on chip
}

// A Config is a plain value: copy it, change it and validate the copy.
func ExampleConfig_Validate() {
	c := hw.Default().Clone()
	c.Dataflow = hw.WeightStationary
	c.FilterSRAMBytes = 1 << 10
	fmt.Println(c.Validate())
	// Output:
	// sram.filter: 1KiB is too small: each half of the double buffer must hold one 32x32 ws fold of 1024 filter words (1 byte each), want at least 2KiB
}

func ExampleConfig_YAML() {
	fmt.Print(string(hw.Default().YAML()))
	// Output:
	// name: edge-32
	// description: 'Default edge design point: 32x32 int8 output-stationary array, 64 KiB per SRAM'
	// source: vggsim design point (docs/hardware.md#edge-32)
	// array: {rows: 32, cols: 32}
	// dataflow: os
	// clock: 1GHz
	// process_nm: 45
	// data_bits: 8
	// acc_bits: 32
	// sram: {ifmap: 64KiB, filter: 64KiB, ofmap: 64KiB}
	// dram: {bandwidth: 16GB/s, kind: lpddr4}
	// energy: {leakage: 0W}
}

func ExampleParseSize() {
	for _, s := range []string{"64KiB", "512KB", "2MiB", "4096"} {
		n, _ := hw.ParseSize(s)
		fmt.Println(s, "=", n, "bytes")
	}
	// Output:
	// 64KiB = 65536 bytes
	// 512KB = 512000 bytes
	// 2MiB = 2097152 bytes
	// 4096 = 4096 bytes
}
