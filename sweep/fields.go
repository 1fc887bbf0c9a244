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
	hf   *hw.Field // the hardware schema's row
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
	// A value the Config cannot hold (an array dimension past int32) is refused here, with
	// the study's position, rather than dropped by Set.
	var scratch hw.Config
	if err := f.hf.SetValue(&scratch, x); err != nil {
		return Value{}, err
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

// kindOf maps the hardware schema's kind to the sweep's; text fields are not sweepable.
func kindOf(k hw.Kind) (kind, bool) {
	switch k {
	case hw.KindInt:
		return kindInt, true
	case hw.KindSize:
		return kindSize, true
	case hw.KindFrequency:
		return kindFrequency, true
	case hw.KindBandwidth:
		return kindBandwidth, true
	case hw.KindEnergy:
		return kindEnergy, true
	case hw.KindPower:
		return kindPower, true
	case hw.KindDataflow:
		return kindDataflow, true
	}
	return 0, false
}

// fields is the table of sweepable hardware fields: every non-text field of the hardware
// schema (hw.Fields), by the same paths, so an axis can name any field a hardware file has.
// Values are read and written through the schema's own accessors.
var fields = func() []Field {
	var fs []Field
	for _, hf := range hw.Fields() {
		k, ok := kindOf(hf.Kind)
		if !ok {
			continue
		}
		f := Field{Path: hf.Path, Doc: hf.Doc, kind: k, hf: hf}
		if k == kindDataflow {
			f.get = func(c *hw.Config) Value { return Value{Str: string(c.Dataflow)} }
			f.set = func(c *hw.Config, v Value) { c.Dataflow = hw.Dataflow(v.Str) }
		} else {
			f.get = func(c *hw.Config) Value { return Value{Num: hf.Value(c)} }
			// Values reaching set passed parse, which checks SetValue accepts them;
			// range steps stay between two such values and are rounded when integral.
			f.set = func(c *hw.Config, v Value) { _ = hf.SetValue(c, v.Num) }
		}
		fs = append(fs, f)
	}
	return fs
}()

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
