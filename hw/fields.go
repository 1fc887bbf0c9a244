package hw

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/vggsim/vggsim/internal/suggest"
)

// The hardware schema is written once, in the fields table below: parsing (Parse), the
// canonical file (Config.YAML), validation (ranges and their messages), `vggsim presets`
// and sweep axes all walk it, so they cannot drift apart. To add a field, add it to Config
// and one row here (and a sentence to docs/hardware.md).

// Kind is what a hardware field holds and how its value is written in a file.
type Kind int

// The kinds of hardware fields. Quantities are written with a unit ("64KiB", "700MHz") and
// held in their base unit (bytes, hertz, bytes per second, picojoules, watts).
const (
	KindText      Kind = iota // one line of text (name, description, source)
	KindInt                   // a decimal integer (array dimensions, bit widths)
	KindDataflow              // os, ws or is
	KindSize                  // bytes, written like 64KiB
	KindFrequency             // hertz, written like 700MHz
	KindBandwidth             // bytes per second, written like 16GB/s
	KindEnergy                // picojoules, written like 0.2pJ
	KindPower                 // watts, written like 0.5W
	KindDRAMKind              // ddr3, ddr4, lpddr4, gddr5 or hbm2
)

// String returns the kind's name: "text", "int", "dataflow", "size", "frequency",
// "bandwidth", "energy", "power" or "dram_kind".
func (k Kind) String() string {
	return [...]string{"text", "int", "dataflow", "size", "frequency", "bandwidth", "energy", "power", "dram_kind"}[k]
}

// Unit returns the base unit values of this kind are held in ("B", "Hz", "B/s", "pJ", "W"),
// or "" for text, integers and dataflows.
func (k Kind) Unit() string {
	if u, ok := k.quantity(); ok {
		return baseUnit[u]
	}
	return ""
}

// Numeric reports whether values of this kind are numbers (Field.Value and Field.SetValue
// apply to them).
func (k Kind) Numeric() bool { return k != KindText && k != KindDataflow && k != KindDRAMKind }

// quantity returns the unit kind of a quantity field.
func (k Kind) quantity() (kind, bool) {
	switch k {
	case KindSize:
		return kindSize, true
	case KindFrequency:
		return kindFrequency, true
	case KindBandwidth:
		return kindBandwidth, true
	case KindEnergy:
		return kindEnergy, true
	case KindPower:
		return kindPower, true
	}
	return 0, false
}

// Range is the valid interval of a numeric field, checked by Validate and Parse. A value
// must be finite and lie in [Min, Max], or in (Min, Max] when MinOpen.
type Range struct {
	Min, Max float64 // Max is +Inf for no upper bound
	MinOpen  bool    // Min itself is not valid ("must be positive")
}

// Contains reports whether v lies in r (NaN and infinities never do).
func (r Range) Contains(v float64) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) || v > r.Max {
		return false
	}
	if r.MinOpen {
		return v > r.Min
	}
	return v >= r.Min
}

// String describes the rule as a validation message: "must be between 1 and 64", "must be
// positive", "must not be negative", "must be at least 2".
func (r Range) String() string {
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	switch {
	case !math.IsInf(r.Max, 1) && !r.MinOpen:
		return fmt.Sprintf("must be between %s and %s", g(r.Min), g(r.Max))
	case !math.IsInf(r.Max, 1):
		return fmt.Sprintf("must be greater than %s and at most %s", g(r.Min), g(r.Max))
	case r.Min == 0 && r.MinOpen:
		return "must be positive"
	case r.Min == 0:
		return "must not be negative"
	case r.MinOpen:
		return "must be greater than " + g(r.Min)
	}
	return "must be at least " + g(r.Min)
}

// violation describes how v breaks r as a validation message, naming only the bound it
// crosses when the range is a quantity's ("must be positive", "must be at most 256TiB"); g
// formats a bound with its unit, or is nil for a plain number (the message then names both
// bounds, as String does).
func (r Range) violation(v float64, g func(float64) string) string {
	if g == nil || math.IsInf(r.Max, 1) {
		if g != nil && !(v > r.Max) {
			return r.lower(g)
		}
		return r.String()
	}
	if v > r.Max || math.IsInf(v, 1) {
		return "must be at most " + g(r.Max)
	}
	return r.lower(g)
}

// lower describes r's lower bound alone, its bounds formatted by g.
func (r Range) lower(g func(float64) string) string {
	switch {
	case r.Min == 0 && r.MinOpen:
		return "must be positive"
	case r.Min == 0:
		return "must not be negative"
	case r.MinOpen:
		return "must be greater than " + g(r.Min)
	}
	return "must be at least " + g(r.Min)
}

// Interval returns r in interval notation: "[1, 65536]", "(0, +Inf)".
func (r Range) Interval() string {
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	open := "["
	if r.MinOpen {
		open = "("
	}
	closing := "]"
	if math.IsInf(r.Max, 1) {
		closing = ")"
	}
	return open + g(r.Min) + ", " + g(r.Max) + closing
}

// Limits of the quantities a hardware file may give: beyond them the simulator's integer
// cycle and byte counts could overflow, so they are refused when the file is read.
const (
	MinClockHz       = 1       // 1 Hz
	MaxClockHz       = 1e15    // 1000 THz
	MinDRAMBandwidth = 1       // 1 B/s
	MaxDRAMBandwidth = 1e15    // 1000 TB/s
	MaxSRAMBytes     = 1 << 48 // 256 TiB per SRAM
)

var (
	positiveRange    = &Range{Min: 0, Max: math.Inf(1), MinOpen: true}
	nonNegativeRange = &Range{Min: 0, Max: math.Inf(1)}
	sramRange        = &Range{Min: 0, Max: MaxSRAMBytes, MinOpen: true}
)

// Field is one key of a hardware file, addressed by its dotted path ("sram.ifmap"). The
// table of fields (Fields) is the schema.
type Field struct {
	Path     string // dotted YAML path: "array.rows", "dram.bandwidth"
	Kind     Kind
	Doc      string // one sentence for listings and docs
	JSON     string // key in `vggsim presets --format json`, with its unit: "clock_hz"
	Optional bool   // may be left out of a file; Parse then keeps the default
	Range    *Range // valid values of a numeric field, or nil when any value is valid

	// zeroIsDefault: in a Config built in Go, 0 means the default and is not checked
	// against Range; a file must still write a value in Range.
	zeroIsDefault bool
	// omitZero: Config.YAML leaves the key out when the value is zero or empty.
	omitZero bool
	// want describes an integer field's expected value for parse errors.
	want string
	// ptr returns the Config's storage for the field: *string, *Dataflow, *int, *int64 or
	// *float64.
	ptr func(c *Config) any
	// get, when set, is what Format and Value read instead of *ptr (acc_bits: the
	// effective width; energy.mac and energy.dram_access_per_byte: the derived value when
	// the stored one is 0). Config.YAML and Validate look at the stored value.
	get func(c *Config) float64
}

// fields is the hardware schema, in the order of docs/hardware.md and of Config.YAML.
var fields = []*Field{
	{Path: "name", Kind: KindText, JSON: "name", Doc: "the design's name, as --hw and presets list it",
		ptr: func(c *Config) any { return &c.Name }},
	{Path: "description", Kind: KindText, JSON: "description", Optional: true, omitZero: true,
		Doc: "one line shown by vggsim presets", ptr: func(c *Config) any { return &c.Description }},
	{Path: "source", Kind: KindText, JSON: "source", Optional: true, omitZero: true,
		Doc: "where the numbers come from (a paper, a datasheet)", ptr: func(c *Config) any { return &c.Source }},
	{Path: "array.rows", Kind: KindInt, JSON: "rows", Range: &Range{Min: 1, Max: MaxArrayDim}, want: "a positive integer",
		Doc: "systolic array height R (processing-element rows)", ptr: func(c *Config) any { return &c.Rows }},
	{Path: "array.cols", Kind: KindInt, JSON: "cols", Range: &Range{Min: 1, Max: MaxArrayDim}, want: "a positive integer",
		Doc: "systolic array width C (processing-element columns)", ptr: func(c *Config) any { return &c.Cols }},
	{Path: "dataflow", Kind: KindDataflow, JSON: "dataflow",
		Doc: "which operand stays in the array: os (outputs), ws (weights) or is (inputs)",
		ptr: func(c *Config) any { return &c.Dataflow }},
	{Path: "clock", Kind: KindFrequency, JSON: "clock_hz", Range: &Range{Min: MinClockHz, Max: MaxClockHz},
		Doc: "array clock", ptr: func(c *Config) any { return &c.ClockHz }},
	{Path: "process_nm", Kind: KindInt, JSON: "process_nm", Optional: true, Range: &Range{Min: 1, Max: MaxProcessNM}, zeroIsDefault: true,
		want: "a process node in nm from 1 to 1000", Doc: "process node in nm; scales the derived MAC and SRAM energies; default 45",
		ptr: func(c *Config) any { return &c.ProcessNM },
		get: func(c *Config) float64 { return float64(c.ProcessNMOrDefault()) }},
	{Path: "data_bits", Kind: KindInt, JSON: "data_bits", Range: &Range{Min: 1, Max: MaxDataBits}, want: "a width in bits from 1 to 64",
		Doc: "operand word width in bits (ifmap, filter and ofmap words)", ptr: func(c *Config) any { return &c.DataBits }},
	{Path: "acc_bits", Kind: KindInt, JSON: "acc_bits", Optional: true, Range: &Range{Min: 1, Max: MaxAccBits}, zeroIsDefault: true,
		want: "a width in bits from 1 to 128", Doc: "accumulator (partial sum) width in bits; default 32",
		ptr: func(c *Config) any { return &c.AccBits },
		get: func(c *Config) float64 { return float64(c.AccBitsOrDefault()) }},
	{Path: "sram.ifmap", Kind: KindSize, JSON: "ifmap_sram_bytes", Range: sramRange,
		Doc: "ifmap SRAM, both halves of its double buffer", ptr: func(c *Config) any { return &c.IfmapSRAMBytes }},
	{Path: "sram.filter", Kind: KindSize, JSON: "filter_sram_bytes", Range: sramRange,
		Doc: "filter SRAM, both halves of its double buffer", ptr: func(c *Config) any { return &c.FilterSRAMBytes }},
	{Path: "sram.ofmap", Kind: KindSize, JSON: "ofmap_sram_bytes", Range: sramRange,
		Doc: "ofmap SRAM, both halves of its double buffer", ptr: func(c *Config) any { return &c.OfmapSRAMBytes }},
	{Path: "sram.accumulator", Kind: KindSize, JSON: "accumulator_bytes", Optional: true, omitZero: true, Range: &Range{Min: 0, Max: MaxSRAMBytes},
		Doc: "on-chip partial-sum storage beyond the array; default none", ptr: func(c *Config) any { return &c.AccumBytes }},
	{Path: "dram.bandwidth", Kind: KindBandwidth, JSON: "dram_bandwidth_bytes_per_s", Range: &Range{Min: MinDRAMBandwidth, Max: MaxDRAMBandwidth},
		Doc: "DRAM bandwidth to and from the SRAMs", ptr: func(c *Config) any { return &c.DRAMBandwidth }},
	{Path: "dram.kind", Kind: KindDRAMKind, JSON: "dram_kind", Optional: true,
		Doc: "DRAM technology, which sets the derived DRAM energy: ddr3, ddr4, lpddr4, gddr5 or hbm2; default lpddr4",
		ptr: func(c *Config) any { return &c.DRAMKind }},
	{Path: "energy.mac", Kind: KindEnergy, JSON: "energy_mac_pj", Optional: true, Range: positiveRange, zeroIsDefault: true, omitZero: true,
		Doc: "energy of one multiply-accumulate; default 0.2pJ·(data_bits/8)²·process_nm/45", ptr: func(c *Config) any { return &c.Energy.MACpJ },
		get: func(c *Config) float64 { return c.Energies().MACpJ }},
	{Path: "energy.sram_access_per_byte", Kind: KindEnergy, JSON: "energy_sram_pj_per_byte", Optional: true, Range: positiveRange, zeroIsDefault: true, omitZero: true,
		Doc: "energy of one byte read or written in any SRAM; default per SRAM, 1.25pJ·√(size/8KiB)·process_nm/45", ptr: func(c *Config) any { return &c.Energy.SRAMpJPerByte }},
	{Path: "energy.dram_access_per_byte", Kind: KindEnergy, JSON: "energy_dram_pj_per_byte", Optional: true, Range: positiveRange, zeroIsDefault: true, omitZero: true,
		Doc: "energy of one DRAM byte moved; default by dram.kind (lpddr4: 48pJ)", ptr: func(c *Config) any { return &c.Energy.DRAMpJPerByte },
		get: func(c *Config) float64 { return c.Energies().DRAMpJPerByte }},
	{Path: "energy.leakage", Kind: KindPower, JSON: "leakage_w", Optional: true, Range: nonNegativeRange,
		Doc: "static power charged over the latency; default 0W", ptr: func(c *Config) any { return &c.Energy.LeakageW }},
}

// fieldIndex maps a path to its field.
var fieldIndex = func() map[string]*Field {
	m := make(map[string]*Field, len(fields))
	for _, f := range fields {
		m[f.Path] = f
	}
	return m
}()

// Fields returns the hardware schema: every field of a hardware file, in file order. The
// Fields are shared; do not change them.
func Fields() []*Field { return fields }

// FieldPaths returns the dotted path of every field, in file order.
func FieldPaths() []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.Path
	}
	return out
}

// ErrUnknownField is wrapped by the errors of LookupField, Config.Get and Config.Set for a
// path that names no field.
var ErrUnknownField = errors.New("unknown hardware field")

// LookupField returns the field at path ("sram.ifmap"). An unknown path gives an error
// wrapping ErrUnknownField with the nearest known path as a suggestion.
func LookupField(path string) (*Field, error) {
	if f, ok := fieldIndex[path]; ok {
		return f, nil
	}
	hint := suggest.DidYouMean(suggest.Nearest(path, FieldPaths()))
	if hint == "" {
		hint = " (vggsim presets --fields lists them)"
	}
	return nil, fmt.Errorf("%w %q%s", ErrUnknownField, path, hint)
}

// Section returns the mapping the field lives in ("sram" for "sram.ifmap"), or "" for a
// top-level key.
func (f *Field) Section() string {
	if i := strings.LastIndexByte(f.Path, '.'); i >= 0 {
		return f.Path[:i]
	}
	return ""
}

// Key returns the field's key within its section ("ifmap" for "sram.ifmap").
func (f *Field) Key() string { return f.Path[strings.LastIndexByte(f.Path, '.')+1:] }

// Format returns the field's value in c as a hardware file writes it: "64KiB", "700MHz",
// "32", "os".
func (f *Field) Format(c *Config) string {
	if f.get != nil {
		return formatNumber(f.Kind, f.get(c))
	}
	switch p := f.ptr(c).(type) {
	case *string:
		return *p
	case *Dataflow:
		return string(*p)
	case *DRAMKind:
		return string(*p)
	case *int:
		return strconv.Itoa(*p)
	case *int64:
		if f.Kind == KindSize {
			return FormatSize(*p)
		}
		return strconv.FormatInt(*p, 10)
	case *float64:
		return formatNumber(f.Kind, *p)
	}
	panic("hw: field " + f.Path + " has no storage")
}

// formatNumber formats v of kind k.
func formatNumber(k Kind, v float64) string {
	if q, ok := k.quantity(); ok {
		if q == kindSize {
			return FormatSize(int64(v))
		}
		return formatFloat(v, q)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// Value returns a numeric field's value in c, in its kind's base unit (bytes, Hz, …). It
// panics for text and dataflow fields (Kind.Numeric reports which are numeric).
func (f *Field) Value(c *Config) float64 {
	if f.get != nil {
		return f.get(c)
	}
	return f.raw(c)
}

// raw returns a numeric field's stored value, ignoring get.
func (f *Field) raw(c *Config) float64 {
	switch p := f.ptr(c).(type) {
	case *int:
		return float64(*p)
	case *int64:
		return float64(*p)
	case *float64:
		return *p
	}
	panic("hw: field " + f.Path + " is not numeric")
}

// SetValue sets a numeric field of c to v, in its kind's base unit. Integer fields (sizes
// included) take whole numbers only. It does not validate: call Config.Validate after
// changing fields.
func (f *Field) SetValue(c *Config, v float64) error {
	switch p := f.ptr(c).(type) {
	case *int:
		if v != math.Trunc(v) {
			return fmt.Errorf("%s: %v is not a whole number", f.Path, v)
		}
		if math.Abs(v) > math.MaxInt32 {
			return fmt.Errorf("%s: %v is too large (at most %d)", f.Path, v, math.MaxInt32)
		}
		*p = int(v)
	case *int64:
		if v != math.Trunc(v) {
			return fmt.Errorf("%s: %v is not a whole number of bytes", f.Path, v)
		}
		if math.Abs(v) > 1<<62 {
			return fmt.Errorf("%s: %v bytes is too large (at most 2^62)", f.Path, v)
		}
		*p = int64(v)
	case *float64:
		*p = v
	default:
		return fmt.Errorf("%s: a %s field has no numeric value", f.Path, f.Kind)
	}
	return nil
}

// Parse sets the field in c from text as a hardware file writes it ("128KiB", "1.2GHz",
// "ws", "64"). A malformed value is an error naming the field; the value's range is not
// checked here (Config.Validate does).
func (f *Field) Parse(c *Config, text string) error {
	switch p := f.ptr(c).(type) {
	case *string:
		*p = text
	case *Dataflow:
		d := Dataflow(strings.TrimSpace(text))
		if !d.Valid() {
			return fmt.Errorf("%s: %s", f.Path, dataflowMsg(text))
		}
		*p = d
	case *DRAMKind:
		k := DRAMKind(strings.TrimSpace(text))
		if !k.Valid() {
			return fmt.Errorf("%s: %s", f.Path, dramKindMsg(text))
		}
		*p = k
	case *int:
		i, err := strconv.ParseInt(strings.TrimSpace(text), 10, 32)
		if err != nil {
			return fmt.Errorf("%s: %q is not an integer, want %s", f.Path, text, f.want)
		}
		*p = int(i)
	case *int64:
		b, err := parseSize(text)
		if err != nil {
			return fmt.Errorf("%s: %v", f.Path, err)
		}
		*p = b
	case *float64:
		q, _ := f.Kind.quantity()
		v, err := parseFloat(text, q)
		if err != nil {
			return fmt.Errorf("%s: %v", f.Path, err)
		}
		*p = v
	}
	return nil
}

// Get returns the value of the field at path in c as a hardware file writes it.
func (c *Config) Get(path string) (string, error) {
	f, err := LookupField(path)
	if err != nil {
		return "", err
	}
	return f.Format(c), nil
}

// Set sets the field at path in c from text as a hardware file writes it:
// c.Set("sram.ifmap", "128KiB"). It checks the syntax and unit, not the range: call
// Validate when done changing c.
func (c *Config) Set(path, text string) error {
	f, err := LookupField(path)
	if err != nil {
		return err
	}
	return f.Parse(c, text)
}

// sections returns the top-level keys in file order: plain fields and section names.
func topLevelKeys() []string {
	var keys []string
	for _, f := range fields {
		k := f.Path
		if s := f.Section(); s != "" {
			k = s
		}
		if len(keys) == 0 || keys[len(keys)-1] != k {
			keys = append(keys, k)
		}
	}
	return keys
}

// sectionFields returns the fields of section s, in file order.
func sectionFields(s string) []*Field {
	var out []*Field
	for _, f := range fields {
		if f.Section() == s {
			out = append(out, f)
		}
	}
	return out
}

// keysOf returns the keys of fs.
func keysOf(fs []*Field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Key()
	}
	return out
}
