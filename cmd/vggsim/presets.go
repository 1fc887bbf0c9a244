package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/vggsim/vggsim/hw"
)

// cmdPresets lists the embedded hardware presets, one line each, or prints the named ones.
//
//	vggsim presets [--format table|json|yaml] [NAME...]
func cmdPresets(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("presets", "[--format table|json|yaml] [NAME...]",
		"List the embedded hardware presets (any of them can be given to --hw), or only the named\n"+
			"ones. --format yaml prints presets as hardware files, a start for your own;\n"+
			"docs/hardware.md describes the keys and where each preset's numbers come from.", stderr)
	format := fs.String("format", "table", "output `format`: table, json or yaml")
	names, code, ok := parseArgs(fs, args, 0, -1)
	if !ok {
		return code
	}
	if err := checkFormat(*format, "table", "json", "yaml"); err != nil {
		return fail(stderr, "presets", badInput(err))
	}
	presets := hw.Presets()
	if len(names) > 0 {
		presets = presets[:0]
		for _, n := range names {
			c, err := hw.Preset(n)
			if err != nil {
				return fail(stderr, "presets", badInput(err))
			}
			presets = append(presets, c)
		}
	}

	var err error
	switch *format {
	case "table":
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tARRAY\tDATAFLOW\tCLOCK\tBITS\tSRAM\tDRAM\tDESCRIPTION")
		for _, c := range presets {
			desc := c.Description
			if c.Name == hw.DefaultPreset {
				desc += " (default)"
			}
			fmt.Fprintf(tw, "%s\t%dx%d\t%s\t%s\t%d\t%s\t%s\t%s\n", c.Name, c.Rows, c.Cols, c.Dataflow,
				hw.FormatFrequency(c.ClockHz), c.DataBits, hw.FormatSize(c.SRAMBytes()),
				hw.FormatBandwidth(c.DRAMBandwidth), desc)
		}
		err = tw.Flush()
	case "json":
		// Field names are stable and carry their units.
		type preset struct {
			Name                 string  `json:"name"`
			Default              bool    `json:"default"`
			Description          string  `json:"description"`
			Source               string  `json:"source"`
			Rows                 int     `json:"rows"`
			Cols                 int     `json:"cols"`
			Dataflow             string  `json:"dataflow"`
			ClockHz              float64 `json:"clock_hz"`
			DataBits             int     `json:"data_bits"`
			AccBits              int     `json:"acc_bits"`
			IfmapSRAMBytes       int64   `json:"ifmap_sram_bytes"`
			FilterSRAMBytes      int64   `json:"filter_sram_bytes"`
			OfmapSRAMBytes       int64   `json:"ofmap_sram_bytes"`
			AccumulatorBytes     int64   `json:"accumulator_bytes"`
			SRAMTotalBytes       int64   `json:"sram_total_bytes"`
			DRAMBandwidthBytesPS float64 `json:"dram_bandwidth_bytes_per_s"`
			PeakOPS              float64 `json:"peak_ops_per_s"`
			MACpJ                float64 `json:"energy_mac_pj"`
			SRAMpJPerByte        float64 `json:"energy_sram_pj_per_byte"`
			DRAMpJPerByte        float64 `json:"energy_dram_pj_per_byte"`
			LeakageW             float64 `json:"leakage_w"`
		}
		out := make([]preset, 0, len(presets))
		for _, c := range presets {
			out = append(out, preset{
				Name: c.Name, Default: c.Name == hw.DefaultPreset, Description: c.Description, Source: c.Source,
				Rows: c.Rows, Cols: c.Cols, Dataflow: string(c.Dataflow), ClockHz: c.ClockHz,
				DataBits: c.DataBits, AccBits: c.AccBitsOrDefault(),
				IfmapSRAMBytes: c.IfmapSRAMBytes, FilterSRAMBytes: c.FilterSRAMBytes, OfmapSRAMBytes: c.OfmapSRAMBytes,
				AccumulatorBytes: c.AccumBytes, SRAMTotalBytes: c.SRAMBytes(),
				DRAMBandwidthBytesPS: c.DRAMBandwidth, PeakOPS: c.PeakOPS(),
				MACpJ: c.Energy.MACpJ, SRAMpJPerByte: c.Energy.SRAMpJPerByte,
				DRAMpJPerByte: c.Energy.DRAMpJPerByte, LeakageW: c.Energy.LeakageW,
			})
		}
		err = writeJSON(stdout, out)
	case "yaml":
		for i, c := range presets {
			if i > 0 {
				if _, err = io.WriteString(stdout, "---\n"); err != nil {
					break
				}
			}
			if _, err = stdout.Write(c.YAML()); err != nil {
				break
			}
		}
	}
	if err != nil {
		return fail(stderr, "presets", err)
	}
	return exitOK
}
