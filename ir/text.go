package ir

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Print writes the stable text form of g (see the package doc). Parameters are not printed.
func Print(w io.Writer, g *Graph) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "graph %s\n", strconv.Quote(g.Name))
	for _, n := range g.Nodes {
		fmt.Fprintf(bw, "%%%d = %s", n.Out.ID, n.Op)
		if attrs := attrText(n); attrs != "" {
			fmt.Fprintf(bw, "[%s]", attrs)
		}
		for i, in := range n.In {
			sep := ", "
			if i == 0 {
				sep = " "
			}
			fmt.Fprintf(bw, "%s%%%d", sep, in.ID)
		}
		if n.Op != Input {
			fmt.Fprintf(bw, " @%s", quoteName(n.Name))
		}
		fmt.Fprintf(bw, " : %s\n", n.Out.Shape)
	}
	if g.Output != nil {
		fmt.Fprintf(bw, "return %%%d\n", g.Output.ID)
	}
	return bw.Flush()
}

// String returns the text form of g.
func (g *Graph) String() string {
	var b strings.Builder
	Print(&b, g)
	return b.String()
}

func attrText(n *Node) string {
	a := n.Attrs
	switch n.Op {
	case Conv:
		s := fmt.Sprintf("k=%dx%d s=%d p=%d g=%d", a.KH, a.KW, a.Stride, a.Pad, a.Groups)
		if a.Bias {
			s += " bias"
		}
		return s
	case MaxPool:
		return fmt.Sprintf("k=%dx%d s=%d p=%d", a.KH, a.KW, a.Stride, a.Pad)
	case BatchNorm:
		return "eps=" + strconv.FormatFloat(a.Eps, 'g', -1, 64)
	case AdaptiveAvgPool:
		return fmt.Sprintf("out=%dx%d", a.OutH, a.OutW)
	}
	return ""
}

func quoteName(s string) string {
	for _, r := range s {
		if !(r == '.' || r == '_' || r == '-' || r == '/' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return strconv.Quote(s)
		}
	}
	if s == "" {
		return `""`
	}
	return s
}

// SyntaxError is a problem in the text form at a 1-based line and column.
type SyntaxError struct {
	File      string // the name given to Parse
	Line, Col int    // 1-based position of the problem
	Msg       string // what is wrong, lowercase, without the position
}

// Error formats e as "file:line:col: msg".
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Parse reads a graph in text form; file names the source in errors. The result is verified.
func Parse(file string, r io.Reader) (*Graph, error) {
	p := &parser{file: file, vals: map[int]*Value{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	g := &Graph{}
	for sc.Scan() {
		p.line++
		p.s, p.pos = sc.Text(), 0
		if i := strings.IndexByte(p.s, '#'); i >= 0 && !strings.Contains(p.s[:i], `"`) {
			p.s = p.s[:i]
		}
		p.skipSpace()
		if p.pos == len(p.s) {
			continue
		}
		if err := p.statement(g); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if !p.sawGraph {
		return nil, &SyntaxError{file, max(p.line, 1), 1, "missing graph header"}
	}
	if g.Output == nil {
		return nil, &SyntaxError{file, max(p.line, 1), 1, "missing return"}
	}
	if err := Verify(g); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return g, nil
}

type parser struct {
	file     string
	line     int
	s        string
	pos      int
	vals     map[int]*Value
	sawGraph bool
}

func (p *parser) errf(format string, args ...any) error {
	return &SyntaxError{p.file, p.line, p.pos + 1, fmt.Sprintf(format, args...)}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t' || p.s[p.pos] == '\r') {
		p.pos++
	}
}

// word reads a run of non-space, non-delimiter characters.
func (p *parser) word() string {
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.s) && !strings.ContainsRune(" \t[],:=@%\r", rune(p.s[p.pos])) {
		p.pos++
	}
	return p.s[start:p.pos]
}

func (p *parser) expect(c byte) error {
	p.skipSpace()
	if p.pos >= len(p.s) || p.s[p.pos] != c {
		return p.errf("expected %q", c)
	}
	p.pos++
	return nil
}

func (p *parser) peek(c byte) bool {
	p.skipSpace()
	return p.pos < len(p.s) && p.s[p.pos] == c
}

func (p *parser) quoted() (string, error) {
	p.skipSpace()
	if !p.peek('"') {
		return p.word(), nil
	}
	rest := p.s[p.pos:]
	q, err := strconv.QuotedPrefix(rest)
	if err != nil {
		return "", p.errf("bad quoted string")
	}
	p.pos += len(q)
	s, _ := strconv.Unquote(q)
	return s, nil
}

func (p *parser) valueRef() (int, error) {
	if err := p.expect('%'); err != nil {
		return 0, err
	}
	w := p.word()
	id, err := strconv.Atoi(w)
	if err != nil || id < 0 {
		return 0, p.errf("bad value id %q", w)
	}
	return id, nil
}

func (p *parser) statement(g *Graph) error {
	if !p.sawGraph {
		if p.word() != "graph" {
			return p.errf(`expected "graph NAME" header`)
		}
		name, err := p.quoted()
		if err != nil {
			return err
		}
		g.Name, p.sawGraph = name, true
		return p.end()
	}
	if g.Output != nil {
		return p.errf("statement after return")
	}
	if !p.peek('%') {
		if w := p.word(); w != "return" {
			return p.errf("expected %%ID = op ... or return, got %q", w)
		}
		id, err := p.valueRef()
		if err != nil {
			return err
		}
		v, ok := p.vals[id]
		if !ok {
			return p.errf("undefined value %%%d", id)
		}
		g.Output = v
		return p.end()
	}
	id, err := p.valueRef()
	if err != nil {
		return err
	}
	if id != len(g.Nodes) {
		return p.errf("value %%%d out of order, want %%%d", id, len(g.Nodes))
	}
	if err := p.expect('='); err != nil {
		return err
	}
	opName := p.word()
	op, ok := opByName[opName]
	if !ok {
		return p.errf("unknown op %q", opName)
	}
	n := &Node{Op: op}
	if p.peek('[') {
		p.pos++
		if err := p.attrs(n); err != nil {
			return err
		}
	}
	for op != Input && p.peek('%') {
		ref, err := p.valueRef()
		if err != nil {
			return err
		}
		v, ok := p.vals[ref]
		if !ok {
			return p.errf("undefined value %%%d", ref)
		}
		n.In = append(n.In, v)
		if !p.peek(',') {
			break
		}
		p.pos++
	}
	if op == Input {
		n.Name = "input"
	} else {
		if err := p.expect('@'); err != nil {
			return err
		}
		if n.Name, err = p.quoted(); err != nil {
			return err
		}
	}
	if err := p.expect(':'); err != nil {
		return err
	}
	shape, err := p.shape()
	if err != nil {
		return err
	}
	n.Out = &Value{ID: id, Shape: shape, Producer: n}
	p.vals[id] = n.Out
	g.Nodes = append(g.Nodes, n)
	return p.end()
}

func (p *parser) end() error {
	p.skipSpace()
	if p.pos != len(p.s) {
		return p.errf("unexpected %q", p.s[p.pos:])
	}
	return nil
}

func (p *parser) shape() (Shape, error) {
	w := p.word()
	parts := strings.Split(w, "x")
	if len(parts) != 3 {
		return Shape{}, p.errf("bad shape %q, want CxHxW", w)
	}
	var d [3]int
	for i, s := range parts {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			return Shape{}, p.errf("bad shape %q, want CxHxW", w)
		}
		d[i] = v
	}
	return Shape{d[0], d[1], d[2]}, nil
}

// attrNames lists, space-delimited, the attributes each op accepts in the text form.
var attrNames = map[Op]string{
	Conv:            " k s p g bias ",
	MaxPool:         " k s p ",
	BatchNorm:       " eps ",
	AdaptiveAvgPool: " out ",
}

func (p *parser) attrs(n *Node) error {
	for {
		p.skipSpace()
		if p.peek(']') {
			p.pos++
			return nil
		}
		if p.pos >= len(p.s) {
			return p.errf("unterminated attributes")
		}
		start := p.pos
		for p.pos < len(p.s) && p.s[p.pos] != ' ' && p.s[p.pos] != ']' {
			p.pos++
		}
		kv := p.s[start:p.pos]
		k, v, _ := strings.Cut(kv, "=")
		if !strings.Contains(attrNames[n.Op], " "+k+" ") {
			p.pos = start
			return p.errf("unknown attribute %q for %s", k, n.Op)
		}
		a := &n.Attrs
		var err error
		switch k {
		case "k", "out":
			what, ph, pw := "kernel", &a.KH, &a.KW
			if k == "out" {
				what, ph, pw = "output size", &a.OutH, &a.OutW
			}
			h, w, ok := strings.Cut(v, "x")
			if !ok {
				p.pos = start
				return p.errf("bad %s %q, want HxW", what, v)
			}
			if *ph, err = strconv.Atoi(h); err == nil {
				*pw, err = strconv.Atoi(w)
			}
		case "s":
			a.Stride, err = strconv.Atoi(v)
		case "p":
			a.Pad, err = strconv.Atoi(v)
		case "g":
			a.Groups, err = strconv.Atoi(v)
		case "bias":
			a.Bias = true
		case "eps":
			a.Eps, err = strconv.ParseFloat(v, 64)
		default:
			p.pos = start
			return p.errf("unknown attribute %q", k)
		}
		if err != nil {
			p.pos = start
			return p.errf("bad attribute %q", kv)
		}
	}
}
