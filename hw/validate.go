package hw

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Limits checked by Validate.
const (
	MaxArrayDim = 1 << 16 // largest array height or width
	MaxDataBits = 64      // widest operand word
	MaxAccBits  = 128     // widest accumulator word
)

// Validate checks c against the rules of docs/hardware.md (positive sizes and rates, a
// known dataflow, word widths in range, SRAM halves big enough for one fold) and returns
// every violation as an ErrorList whose fields are the YAML paths ("sram.ifmap"), or nil.
// Parse and Load run the same checks, with positions; Validate is for Configs built or
// changed in Go.
func (c *Config) Validate() error {
	return c.check(nil, nil).Err()
}

// origin tells check where the Config's fields came from. A nil origin means a Config built
// in Go: no positions, values shown formatted.
type origin interface {
	at(field string) Pos      // position to report for the field
	text(field string) string // the field's value as written, or ""
}

// check applies the validation rules. bad holds the fields that already have an error (or
// are missing); their rules are skipped.
func (c *Config) check(src origin, bad map[string]bool) ErrorList {
	at := func(field string) Pos {
		if src == nil {
			return Pos{}
		}
		return src.at(field)
	}
	// show returns the value of field as the user wrote it, else formatted.
	show := func(field, formatted string) string {
		if src != nil {
			if t := src.text(field); t != "" {
				return t
			}
		}
		return formatted
	}
	var errs ErrorList
	fail := func(field, format string, args ...any) {
		errs.add(at(field), field, format, args...)
		if bad == nil {
			bad = map[string]bool{}
		}
		bad[field] = true
	}
	ok := func(field string) bool { return !bad[field] }

	if ok("name") && strings.TrimSpace(c.Name) == "" {
		fail("name", "must not be empty")
	}
	for _, f := range []struct{ field, v string }{{"name", c.Name}, {"description", c.Description}, {"source", c.Source}} {
		if ok(f.field) && strings.ContainsFunc(f.v, unicode.IsControl) {
			fail(f.field, "must be one line of text, without control characters")
		}
	}
	// The ranges of the fields table: "must be between 1 and 64, got 65".
	for _, f := range fields {
		if f.Range == nil || !ok(f.Path) {
			continue
		}
		v := f.raw(c)
		if f.zeroIsDefault && v == 0 && show(f.Path, "") == "" {
			continue // 0 in a Config built in Go means the default; a file must write a value
		}
		if !f.Range.Contains(v) {
			var g func(float64) string
			if _, q := f.Kind.quantity(); q {
				g = func(x float64) string { return formatNumber(f.Kind, x) }
			}
			fail(f.Path, "%s, got %s", f.Range.violation(v, g), show(f.Path, formatNumber(f.Kind, v)))
		}
	}
	if ok("dataflow") && !c.Dataflow.Valid() {
		fail("dataflow", "%s", dataflowMsg(string(c.Dataflow)))
	}
	if ok("dram.kind") && c.DRAMKind != "" && !c.DRAMKind.Valid() {
		fail("dram.kind", "%s", dramKindMsg(string(c.DRAMKind)))
	}
	if ok("acc_bits") && c.AccBits != 0 && ok("data_bits") && c.AccBits < c.DataBits {
		fail("acc_bits", "must be at least data_bits (%d), got %s", c.DataBits, show("acc_bits", strconv.Itoa(c.AccBits)))
	}

	srams := []struct {
		field, operand string
		bytes          int64
	}{
		{"sram.ifmap", "ifmap", c.IfmapSRAMBytes},
		{"sram.filter", "filter", c.FilterSRAMBytes},
		{"sram.ofmap", "ofmap", c.OfmapSRAMBytes},
	}
	// The fold rule needs a sane array, dataflow and word width.
	if ok("array.rows") && ok("array.cols") && ok("dataflow") && ok("data_bits") {
		iw, fw, ow := c.MinSRAMWords()
		minWords := []int64{iw, fw, ow}
		bpw := int64(c.BytesPerWord())
		for i, s := range srams {
			if !ok(s.field) || s.bytes/2/bpw >= minWords[i] {
				continue
			}
			what := fmt.Sprintf("one array edge of %d %s words", minWords[i], s.operand)
			if minWords[i] == int64(c.Rows)*int64(c.Cols) && minWords[i] > max(int64(c.Rows), int64(c.Cols)) {
				what = fmt.Sprintf("one %dx%d %s fold of %d %s words", c.Rows, c.Cols, c.Dataflow, minWords[i], s.operand)
			}
			each := "1 byte each"
			if bpw > 1 {
				each = fmt.Sprintf("%d bytes each", bpw)
			}
			fail(s.field, "%s is too small: each half of the double buffer must hold %s (%s), want at least %s",
				show(s.field, FormatSize(s.bytes)), what, each, FormatSize(2*bpw*minWords[i]))
		}
	}

	errs.Sort()
	return errs
}

// dataflowMsg explains why s is not a dataflow.
func dataflowMsg(s string) string {
	msg := fmt.Sprintf("unknown dataflow %q, want one of os, ws, is", s)
	if low := strings.ToLower(s); low != s && Dataflow(low).Valid() {
		msg += fmt.Sprintf(" (lowercase: %s)", low)
	} else if low == "rs" {
		msg += " (row stationary is not modelled; the eyeriss preset approximates it with ws)"
	}
	return msg
}

// dramKindList returns the DRAM kinds as "ddr3, gddr5, ddr4, lpddr4, hbm2".
func dramKindList() string {
	var names []string
	for _, k := range DRAMKinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// dramKindMsg explains why s is not a DRAM kind.
func dramKindMsg(s string) string {
	msg := fmt.Sprintf("unknown DRAM kind %q, want one of %s", s, dramKindList())
	if low := strings.ToLower(s); low != s && DRAMKind(low).Valid() {
		msg += fmt.Sprintf(" (lowercase: %s)", low)
	}
	return msg
}
