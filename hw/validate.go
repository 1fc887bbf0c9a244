package hw

import (
	"fmt"
	"math"
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
	for _, d := range []struct {
		field string
		v     int
	}{{"array.rows", c.Rows}, {"array.cols", c.Cols}} {
		if ok(d.field) && (d.v < 1 || d.v > MaxArrayDim) {
			fail(d.field, "must be between 1 and %d, got %s", MaxArrayDim, show(d.field, strconv.Itoa(d.v)))
		}
	}
	if ok("dataflow") && !c.Dataflow.Valid() {
		fail("dataflow", "%s", dataflowMsg(string(c.Dataflow)))
	}
	if ok("clock") && !positive(c.ClockHz) {
		fail("clock", "must be positive, got %s", show("clock", FormatFrequency(c.ClockHz)))
	}
	if ok("data_bits") && (c.DataBits < 1 || c.DataBits > MaxDataBits) {
		fail("data_bits", "must be between 1 and %d, got %s", MaxDataBits, show("data_bits", strconv.Itoa(c.DataBits)))
	}
	if ok("acc_bits") && c.AccBits != 0 {
		switch {
		case c.AccBits < 1 || c.AccBits > MaxAccBits:
			fail("acc_bits", "must be between 1 and %d, got %s", MaxAccBits, show("acc_bits", strconv.Itoa(c.AccBits)))
		case ok("data_bits") && c.AccBits < c.DataBits:
			fail("acc_bits", "must be at least data_bits (%d), got %s", c.DataBits, show("acc_bits", strconv.Itoa(c.AccBits)))
		}
	}

	srams := []struct {
		field, operand string
		bytes          int64
	}{
		{"sram.ifmap", "ifmap", c.IfmapSRAMBytes},
		{"sram.filter", "filter", c.FilterSRAMBytes},
		{"sram.ofmap", "ofmap", c.OfmapSRAMBytes},
	}
	for _, s := range srams {
		if ok(s.field) && s.bytes <= 0 {
			fail(s.field, "must be positive, got %s", show(s.field, FormatSize(s.bytes)))
		}
	}
	if ok("sram.accumulator") && c.AccumBytes < 0 {
		fail("sram.accumulator", "must not be negative, got %s", show("sram.accumulator", FormatSize(c.AccumBytes)))
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

	if ok("dram.bandwidth") && !positive(c.DRAMBandwidth) {
		fail("dram.bandwidth", "must be positive, got %s", show("dram.bandwidth", FormatBandwidth(c.DRAMBandwidth)))
	}
	for _, e := range []struct {
		field string
		v     float64
		unit  kind
	}{
		{"energy.mac", c.Energy.MACpJ, kindEnergy},
		{"energy.sram_access_per_byte", c.Energy.SRAMpJPerByte, kindEnergy},
		{"energy.dram_access_per_byte", c.Energy.DRAMpJPerByte, kindEnergy},
		{"energy.leakage", c.Energy.LeakageW, kindPower},
	} {
		if ok(e.field) && (e.v < 0 || math.IsNaN(e.v) || math.IsInf(e.v, 0)) {
			fail(e.field, "must not be negative, got %s", show(e.field, formatFloat(e.v, e.unit)))
		}
	}
	errs.Sort()
	return errs
}

// positive reports whether v is a finite number greater than zero.
func positive(v float64) bool { return v > 0 && !math.IsInf(v, 1) }

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
