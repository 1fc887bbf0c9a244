package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/vggsim/vggsim/hw"
)

// cmdPresets lists the embedded hardware presets, one line each, or prints the named ones.
//
//	vggsim presets [--format table|json|yaml] [NAME...]
func cmdPresets(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("presets", "[--format table|json|csv|yaml] [NAME...]",
		"List the embedded hardware presets (any of them can be given to --hw), or only the named\n"+
			"ones. --format yaml prints presets as hardware files, a start for your own;\n"+
			"docs/hardware.md describes the keys and where each preset's numbers come from.", stdout, stderr)
	format := fs.String("format", "table", "output `format`: table, json, csv (the JSON fields as columns) or yaml")
	listFields := fs.Bool("fields", false, "list the fields of a hardware file (paths for sweeps and --hw files) instead")
	names, code, ok := parseArgs(fs, args, 0, -1)
	if !ok {
		return code
	}
	if err := checkFormat(*format, "table", "json", "csv", "yaml"); err != nil {
		return fail(stderr, "presets", badInput(err))
	}
	if *listFields {
		if len(names) > 0 || *format != "table" {
			return fail(stderr, "presets", badInput(fmt.Errorf("--fields takes no preset names and no --format")))
		}
		return writeFields(stdout, stderr)
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
		fmt.Fprintln(tw, "name\tarray\tdataflow\tclock\tbits\tSRAM\tDRAM\tdescription")
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
		// One object per preset: every field of the hardware table under its JSON name (with
		// its unit), plus a few derived numbers, in table order.
		out := make([]orderedJSON, 0, len(presets))
		for _, c := range presets {
			out = append(out, presetJSON(c))
		}
		err = writeJSON(stdout, out)
	case "csv":
		cw := csv.NewWriter(stdout)
		for i, c := range presets {
			o := presetJSON(c)
			if i == 0 {
				cw.Write(o.keys)
			}
			rec := make([]string, len(o.vals))
			for j, v := range o.vals {
				rec[j] = csvValue(v)
			}
			cw.Write(rec)
		}
		cw.Flush()
		err = cw.Error()
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

// csvValue formats a JSON value for a CSV cell: numbers exactly, without exponents.
func csvValue(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	}
	return fmt.Sprint(v)
}

// presetJSON lays out c as `vggsim presets --format json` prints it: the hardware fields
// under their JSON names, "default" after the name, the SRAM total after the SRAMs, the
// peak rate after the DRAM bandwidth, and last the energies in effect ("energies": the
// energy fields where given, else the values derived from the design).
func presetJSON(c *hw.Config) orderedJSON {
	var o orderedJSON
	for _, f := range hw.Fields() {
		if f.Kind.Numeric() {
			o.add(f.JSON, f.Value(c))
		} else {
			o.add(f.JSON, f.Format(c))
		}
		switch f.Path {
		case "name":
			o.add("default", c.Name == hw.DefaultPreset)
		case "sram.accumulator":
			o.add("sram_total_bytes", c.SRAMBytes())
		case "dram.bandwidth":
			o.add("peak_ops_per_s", c.PeakOPS())
		}
	}
	// The energies the simulator charges, derived ones filled in (hw.Config.Energies).
	e := c.Energies()
	var d orderedJSON
	d.add("mac_pj", e.MACpJ)
	d.add("ifmap_sram_pj_per_byte", e.IfmapSRAMpJPerByte)
	d.add("filter_sram_pj_per_byte", e.FilterSRAMpJPerByte)
	d.add("ofmap_sram_pj_per_byte", e.OfmapSRAMpJPerByte)
	d.add("accumulator_pj_per_byte", e.AccumpJPerByte)
	d.add("dram_pj_per_byte", e.DRAMpJPerByte)
	o.add("energies", d)
	return o
}

// orderedJSON is a JSON object that keeps its keys in insertion order.
type orderedJSON struct {
	keys []string
	vals []any
}

func (o *orderedJSON) add(k string, v any) { o.keys, o.vals = append(o.keys, k), append(o.vals, v) }

// MarshalJSON writes the object with its keys in insertion order.
func (o orderedJSON) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(o.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// writeFields lists the hardware schema: each field's path, kind, base unit, valid range
// and meaning.
func writeFields(stdout, stderr io.Writer) int {
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIELD\tKIND\tUNIT\tREQUIRED\tVALID\tMEANING")
	for _, f := range hw.Fields() {
		req, valid := "yes", "-"
		if f.Optional {
			req = "no"
		}
		if f.Range != nil {
			valid = f.Range.Interval()
		}
		unit := f.Kind.Unit()
		if unit == "" {
			unit = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", f.Path, f.Kind, unit, req, valid, f.Doc)
	}
	if err := tw.Flush(); err != nil {
		return fail(stderr, "presets", err)
	}
	return exitOK
}
