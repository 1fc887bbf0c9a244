package sweep

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vggsim/vggsim/hw"
)

// kind is how a hardware field's values are written and parsed.
type kind uint8

const (
	kindInt       kind = iota // a plain integer (array.rows, data_bits)
	kindSize                  // bytes: 64KiB, 2MiB, 4096
	kindFrequency             // hertz: 1GHz, 700MHz
	kindBandwidth             // bytes/s: 16GB/s
	kindEnergy                // picojoules: 0.2pJ
	kindPower                 // watts: 0.5W
	kindDataflow              // os, ws, is
)

// Value is one value of an axis: a number in the field's base unit (bytes, Hz, bytes/s, pJ,
// W) or, for the dataflow, a name.
type Value struct {
	Num float64
	Str string // the dataflow; "" for numeric fields
}

// String formats v as it appears in result rows: the dataflow name, or the number in its
// base unit, shortest exact form.
func (v Value) String() string {
	if v.Str != "" {
		return v.Str
	}
	return strconv.FormatFloat(v.Num, 'g', -1, 64)
}

// Field is one hardware parameter a study can sweep, by its path in the hardware YAML.
type Field struct {
	Path string
	Doc  string
	kind kind
	get  func(c *hw.Config) Value
	set  func(c *hw.Config, v Value)
}

// Numeric reports whether the field takes numbers (every field but dataflow).
func (f *Field) Numeric() bool { return f.kind != kindDataflow }

// Get returns the field's value in c.
func (f *Field) Get(c *hw.Config) Value { return f.get(c) }

// Set changes the field in c to v.
func (f *Field) Set(c *hw.Config, v Value) { f.set(c, v) }

// parse reads one value of the field as written in a study (units as in hardware files).
func (f *Field) parse(s string) (Value, error) {
	s = strings.TrimSpace(s)
	var (
		x   float64
		err error
	)
	switch f.kind {
	case kindDataflow:
		d := hw.Dataflow(strings.ToLower(s))
		if !d.Valid() {
			return Value{}, fmt.Errorf("dataflow %q: want os, ws or is", s)
		}
		return Value{Str: string(d)}, nil
	case kindInt:
		var n int64
		n, err = strconv.ParseInt(s, 10, 64)
		x = float64(n)
	case kindSize:
		var n int64
		n, err = hw.ParseSize(s)
		x = float64(n)
	case kindFrequency:
		x, err = hw.ParseFrequency(s)
	case kindBandwidth:
		x, err = hw.ParseBandwidth(s)
	case kindEnergy:
		x, err = hw.ParseEnergy(s)
	case kindPower:
		x, err = hw.ParsePower(s)
	}
	if err != nil {
		return Value{}, fmt.Errorf("%s: bad %s %q: %w", f.Path, f.unitName(), s, unwrapNum(err))
	}
	return Value{Num: x}, nil
}

// integral reports whether the field holds a whole number (integers and sizes).
func (f *Field) integral() bool { return f.kind == kindInt || f.kind == kindSize }

func (f *Field) unitName() string {
	return [...]string{"integer", "size", "frequency", "bandwidth", "energy", "power", "dataflow"}[f.kind]
}

// unwrapNum drops strconv's "strconv.ParseInt: parsing ..." prefix.
func unwrapNum(err error) error {
	if ne, ok := err.(*strconv.NumError); ok {
		return ne.Err
	}
	return err
}

func intField(path, doc string, p func(c *hw.Config) *int) Field {
	return Field{Path: path, Doc: doc, kind: kindInt,
		get: func(c *hw.Config) Value { return Value{Num: float64(*p(c))} },
		set: func(c *hw.Config, v Value) { *p(c) = int(v.Num) }}
}

func sizeField(path, doc string, p func(c *hw.Config) *int64) Field {
	return Field{Path: path, Doc: doc, kind: kindSize,
		get: func(c *hw.Config) Value { return Value{Num: float64(*p(c))} },
		set: func(c *hw.Config, v Value) { *p(c) = int64(v.Num) }}
}

func floatField(path, doc string, k kind, p func(c *hw.Config) *float64) Field {
	return Field{Path: path, Doc: doc, kind: k,
		get: func(c *hw.Config) Value { return Value{Num: *p(c)} },
		set: func(c *hw.Config, v Value) { *p(c) = v.Num }}
}

// fields is the table of sweepable hardware fields, by their paths in docs/hardware.md.
var fields = []Field{
	intField("array.rows", "systolic array height R", func(c *hw.Config) *int { return &c.Rows }),
	intField("array.cols", "systolic array width C", func(c *hw.Config) *int { return &c.Cols }),
	{Path: "dataflow", Doc: "os, ws or is", kind: kindDataflow,
		get: func(c *hw.Config) Value { return Value{Str: string(c.Dataflow)} },
		set: func(c *hw.Config, v Value) { c.Dataflow = hw.Dataflow(v.Str) }},
	floatField("clock", "array clock (Hz)", kindFrequency, func(c *hw.Config) *float64 { return &c.ClockHz }),
	intField("data_bits", "operand width in bits", func(c *hw.Config) *int { return &c.DataBits }),
	intField("acc_bits", "accumulator width in bits", func(c *hw.Config) *int { return &c.AccBits }),
	sizeField("sram.ifmap", "ifmap SRAM bytes (both halves)", func(c *hw.Config) *int64 { return &c.IfmapSRAMBytes }),
	sizeField("sram.filter", "filter SRAM bytes", func(c *hw.Config) *int64 { return &c.FilterSRAMBytes }),
	sizeField("sram.ofmap", "ofmap SRAM bytes", func(c *hw.Config) *int64 { return &c.OfmapSRAMBytes }),
	sizeField("sram.accumulator", "partial-sum accumulator bytes", func(c *hw.Config) *int64 { return &c.AccumBytes }),
	floatField("dram.bandwidth", "DRAM bandwidth (bytes/s)", kindBandwidth, func(c *hw.Config) *float64 { return &c.DRAMBandwidth }),
	floatField("energy.mac", "energy per MAC (pJ)", kindEnergy, func(c *hw.Config) *float64 { return &c.Energy.MACpJ }),
	floatField("energy.sram_access_per_byte", "SRAM energy per byte (pJ)", kindEnergy, func(c *hw.Config) *float64 { return &c.Energy.SRAMpJPerByte }),
	floatField("energy.dram_access_per_byte", "DRAM energy per byte (pJ)", kindEnergy, func(c *hw.Config) *float64 { return &c.Energy.DRAMpJPerByte }),
	floatField("energy.leakage", "static power (W)", kindPower, func(c *hw.Config) *float64 { return &c.Energy.LeakageW }),
}

// Fields returns the sweepable hardware fields in the order of docs/hardware.md.
func Fields() []Field { return fields }

// lookupField returns the field with the given path, or nil.
func lookupField(path string) *Field {
	for i := range fields {
		if fields[i].Path == path {
			return &fields[i]
		}
	}
	return nil
}

// fieldPaths returns every field path, for "did you mean" messages.
func fieldPaths() []string {
	ps := make([]string, len(fields))
	for i := range fields {
		ps[i] = fields[i].Path
	}
	return ps
}
