package sweep

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vggsim/vggsim/hw"
)

// A constraint is one comparison of two arithmetic expressions over the point's hardware
// fields, for example
//
//	rows*cols <= 16384
//	sram.total <= 4MiB
//	sram.ifmap + sram.ofmap >= 2 * sram.filter
//
// Operands are numbers (with the units of hardware files: 4MiB, 1GHz, 16GB/s, 0.2pJ),
// field paths (array.rows, sram.ifmap, clock, …, in their base units), and the derived
// names rows, cols (the array), pes (rows·cols), sram.total (all on-chip bytes), batch
// and area (the area proxy in mm²). Operators: + − * / and parentheses; comparisons <, <=,
// >, >=, ==, !=. A study's constraints must all hold for a point to run.
type constraint struct {
	text string
	root node
	pos  Pos // of the constraint's first character
}

// node is an expression tree node.
type node interface {
	eval(env func(string) float64) float64
}

type (
	numNode   float64
	identNode string
	binNode   struct {
		op   byte // + - * /
		l, r node
	}
	cmpNode struct {
		op   string
		l, r node
	}
	negNode struct{ x node }
)

func (n numNode) eval(func(string) float64) float64       { return float64(n) }
func (n identNode) eval(env func(string) float64) float64 { return env(string(n)) }
func (n negNode) eval(env func(string) float64) float64   { return -n.x.eval(env) }
func (n binNode) eval(env func(string) float64) float64 {
	a, b := n.l.eval(env), n.r.eval(env)
	switch n.op {
	case '+':
		return a + b
	case '-':
		return a - b
	case '*':
		return a * b
	}
	return a / b
}
func (n cmpNode) eval(env func(string) float64) float64 {
	a, b := n.l.eval(env), n.r.eval(env)
	var ok bool
	switch n.op {
	case "<":
		ok = a < b
	case "<=":
		ok = a <= b
	case ">":
		ok = a > b
	case ">=":
		ok = a >= b
	case "==":
		ok = a == b
	case "!=":
		ok = a != b
	}
	if ok {
		return 1
	}
	return 0
}

// derivedNames are the names a constraint may use besides the field paths.
var derivedNames = []string{"rows", "cols", "pes", "sram.total", "batch", "area"}

// exprError is a problem at a byte offset of the expression.
type exprError struct {
	off int
	msg string
}

func (e *exprError) Error() string { return e.msg }

type exprParser struct {
	s   string
	i   int
	err *exprError
}

// parseConstraint parses one constraint; the error is an *exprError with the offset.
func parseConstraint(s string) (node, error) {
	p := &exprParser{s: s}
	l := p.sum()
	if p.err != nil {
		return nil, p.err
	}
	p.space()
	at := p.i
	op := p.cmpOp()
	if op == "" {
		if p.i >= len(p.s) {
			return nil, &exprError{at, "want a comparison (<, <=, >, >=, ==, !=)"}
		}
		return nil, &exprError{at, fmt.Sprintf("unexpected %q, want an operator or a comparison", p.rest())}
	}
	r := p.sum()
	if p.err != nil {
		return nil, p.err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, &exprError{p.i, fmt.Sprintf("unexpected %q after the comparison", p.rest())}
	}
	return cmpNode{op, l, r}, nil
}

func (p *exprParser) rest() string {
	r := p.s[p.i:]
	if len(r) > 12 {
		r = r[:12] + "…"
	}
	return r
}

func (p *exprParser) fail(off int, format string, args ...any) {
	if p.err == nil {
		p.err = &exprError{off, fmt.Sprintf(format, args...)}
	}
}

func (p *exprParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *exprParser) cmpOp() string {
	for _, op := range []string{"<=", ">=", "==", "!=", "<", ">"} {
		if strings.HasPrefix(p.s[p.i:], op) {
			p.i += len(op)
			return op
		}
	}
	return ""
}

func (p *exprParser) sum() node {
	l := p.product()
	for p.err == nil {
		p.space()
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			op := p.s[p.i]
			p.i++
			l = binNode{op, l, p.product()}
			continue
		}
		return l
	}
	return l
}

func (p *exprParser) product() node {
	l := p.unary()
	for p.err == nil {
		p.space()
		if p.i < len(p.s) && (p.s[p.i] == '*' || p.s[p.i] == '/') {
			op := p.s[p.i]
			p.i++
			l = binNode{op, l, p.unary()}
			continue
		}
		return l
	}
	return l
}

func (p *exprParser) unary() node {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '-' {
		p.i++
		return negNode{p.unary()}
	}
	return p.atom()
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (p *exprParser) atom() node {
	p.space()
	if p.i >= len(p.s) {
		p.fail(p.i, "expression ends early, want a number or a field")
		return numNode(0)
	}
	start := p.i
	c := p.s[p.i]
	switch {
	case c == '(':
		p.i++
		n := p.sum()
		p.space()
		if p.err == nil && (p.i >= len(p.s) || p.s[p.i] != ')') {
			p.fail(p.i, "missing )")
		}
		p.i++
		return n
	case c >= '0' && c <= '9' || c == '.':
		// A number and its unit: digits, a point, an exponent, letters and '/' (GB/s).
		for p.i < len(p.s) && (isIdentByte(p.s[p.i]) || p.s[p.i] == '/' ||
			(p.s[p.i] == '+' || p.s[p.i] == '-') && (p.s[p.i-1] == 'e' || p.s[p.i-1] == 'E') && onlyNumber(p.s[start:p.i-1])) {
			p.i++
		}
		tok := p.s[start:p.i]
		v, err := parseQuantity(tok)
		if err != nil {
			p.fail(start, "bad number %q: %v", tok, err)
		}
		return numNode(v)
	case isIdentByte(c):
		for p.i < len(p.s) && isIdentByte(p.s[p.i]) {
			p.i++
		}
		name := p.s[start:p.i]
		if f := lookupField(name); f != nil {
			if !f.Numeric() {
				p.fail(start, "%s is not a number", name)
			}
			return identNode(name)
		}
		for _, d := range derivedNames {
			if d == name {
				return identNode(name)
			}
		}
		p.fail(start, "unknown name %q%s", name, didYouMean(name, append(fieldPaths(), derivedNames...)))
		return numNode(0)
	}
	p.fail(start, "unexpected %q, want a number or a field", p.rest())
	return numNode(0)
}

func onlyNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// parseQuantity reads a number with an optional unit of a hardware file: a plain number, a
// size (bytes), a frequency (Hz), a bandwidth (bytes/s), an energy (pJ) or a power (W).
func parseQuantity(s string) (float64, error) {
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		return v, nil
	}
	if n, err := hw.ParseSize(s); err == nil {
		return float64(n), nil
	}
	for _, parse := range []func(string) (float64, error){hw.ParseFrequency, hw.ParseBandwidth, hw.ParseEnergy, hw.ParsePower} {
		if v, err := parse(s); err == nil {
			return v, nil
		}
	}
	return 0, fmt.Errorf("not a number with a known unit (B, KiB, MiB, Hz, GB/s, pJ, W)")
}

// env returns the names a constraint can read for one hardware point.
func pointEnv(c *hw.Config, batch int, area float64) func(string) float64 {
	return func(name string) float64 {
		switch name {
		case "rows":
			return float64(c.Rows)
		case "cols":
			return float64(c.Cols)
		case "pes":
			return float64(c.PEs())
		case "sram.total":
			return float64(c.SRAMBytes())
		case "batch":
			return float64(batch)
		case "area":
			return area
		}
		if f := lookupField(name); f != nil {
			return f.Get(c).Num
		}
		return 0
	}
}
