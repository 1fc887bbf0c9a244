package hw

import (
	"bytes"
	"errors"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/vggsim/vggsim/internal/suggest"
	"github.com/vggsim/vggsim/internal/yamlnode"
	"go.yaml.in/yaml/v3"
)

// The file is decoded into a yaml.Node tree and walked by hand rather than decoded into
// tagged structs: that keeps every value's line and column for error messages, rejects
// unknown and duplicate keys at every level, and lets one pass collect all problems.
// (A custom UnmarshalYAML calling Node.Decode would silently lose KnownFields strictness,
// go-yaml/yaml#460.)

// Load reads the hardware description at path and parses it with Parse. An unreadable file
// gives the *fs.PathError; a bad description gives an ErrorList.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse parses and validates a hardware description in YAML; filename is used only in
// error positions. Unknown keys are errors, units are required where docs/hardware.md says,
// and left-out optional keys get their defaults (acc_bits 32, process_nm 45, dram.kind lpddr4;
// left-out energies stay 0, derived by Config.Energies). On failure
// it returns a nil Config and an ErrorList holding every problem, each reported as
// "file:line:col: field.path: message", in file order.
func Parse(filename string, data []byte) (*Config, error) {
	p := &parser{filename: filename, pos: map[string]Pos{}, raw: map[string]string{}, bad: map[string]bool{}}
	if root := p.decode(data); root != nil {
		c := p.config(root)
		p.errs = append(p.errs, c.check(p, p.bad)...)
		if len(p.errs) == 0 {
			return c, nil
		}
	}
	p.errs.Sort()
	return nil, p.errs
}

// parser walks one file's node tree, collecting problems.
type parser struct {
	filename string
	errs     ErrorList
	pos      map[string]Pos    // field path → position of its value, or of the mapping lacking it
	raw      map[string]string // field path → the scalar as written, for messages
	bad      map[string]bool   // fields that are missing or failed to parse: validation skips them
}

// nodePos returns the position of n in the file.
func (p *parser) nodePos(n *yaml.Node) Pos {
	return Pos{Filename: p.filename, Line: n.Line, Col: n.Column}
}

// text returns a field's scalar as written in the file, or "".
func (p *parser) text(field string) string { return strings.TrimSpace(p.raw[field]) }

// at returns the position recorded for a field, for validation errors.
func (p *parser) at(field string) Pos {
	if pos, ok := p.pos[field]; ok {
		return pos
	}
	return Pos{Filename: p.filename}
}

// errorf records a problem with field, located at n, and marks the field bad.
func (p *parser) errorf(n *yaml.Node, field, format string, args ...any) {
	p.errs.add(p.nodePos(n), field, format, args...)
	p.bad[field] = true
}

// decode parses data as exactly one YAML document and returns its top node, or nil after
// recording why it cannot.
func (p *parser) decode(data []byte) (root *yaml.Node) {
	defer func() {
		// yaml.v3 is not known to panic on v3.0.1, but user input must never crash us.
		if r := recover(); r != nil {
			p.errs.add(Pos{Filename: p.filename}, "", "yaml: internal error: %v", r)
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errs.add(Pos{Filename: p.filename, Line: 1, Col: 1}, "",
				"empty file, want a mapping with name, array, dataflow, clock, data_bits, sram and dram")
		} else {
			p.syntaxError(data, err)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p.syntaxError(data, err)
		return nil
	default:
		p.errs.add(p.nodePos(&extra), "", "a second YAML document; a hardware file holds one")
		return nil
	}
	n := &doc
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	n = yamlnode.Deref(n)
	if n.Kind != yaml.MappingNode {
		p.errs.add(p.nodePos(n), "", "want a mapping with name, array, dataflow, clock, data_bits, sram and dram, got %s", yamlnode.Describe(n))
		return nil
	}
	return n
}

// syntaxError records a YAML syntax error in data at the line and column it is about
// (yamlnode.SyntaxError).
func (p *parser) syntaxError(data []byte, err error) {
	line, col, msg := yamlnode.SyntaxError(data, err)
	p.errs.add(Pos{Filename: p.filename, Line: line, Col: col}, "", "yaml: %s", msg)
}

// join appends key to a dotted field path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// section is one mapping of the schema, its keys checked.
type section struct {
	path string
	node *yaml.Node            // the mapping, or its parent when it is missing
	vals map[string]*yaml.Node // key → value, only for known keys
	ok   bool                  // false when the mapping is missing or not a mapping
}

// section checks that n is a mapping whose keys are all in known, each once, and returns
// it. A nil n (the key is absent) is reported when required.
func (p *parser) section(parent *yaml.Node, n *yaml.Node, path string, known []string, required bool) *section {
	s := &section{path: path, node: parent, vals: map[string]*yaml.Node{}}
	if n == nil {
		p.pos[path] = p.nodePos(parent)
		if required {
			p.errorf(parent, path, "missing (want a mapping of %s)", strings.Join(known, ", "))
		}
		p.markBad(path, known)
		return s
	}
	s.node = n
	p.pos[path] = p.nodePos(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "want a mapping of %s, got %s", strings.Join(known, ", "), yamlnode.Describe(n))
		p.markBad(path, known)
		return s
	}
	s.ok = true
	keyAt := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := yamlnode.Deref(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errs.add(p.nodePos(k), path, "field names must be plain words, got %s", yamlnode.Describe(k))
			continue
		}
		field := join(path, k.Value)
		if first, dup := keyAt[k.Value]; dup {
			p.errs.add(p.nodePos(k), field, "duplicate field (first set at line %d)", first.Line)
			continue
		}
		keyAt[k.Value] = k
		if !slices.Contains(known, k.Value) {
			hint := suggest.DidYouMean(suggest.Nearest(k.Value, known))
			if hint == "" {
				hint = ", want one of " + strings.Join(known, ", ")
			}
			p.errs.add(p.nodePos(k), field, "unknown field%s", hint)
			continue
		}
		s.vals[k.Value] = yamlnode.Deref(v)
	}
	return s
}

// markBad marks every key of a missing or broken section as bad, so that validation skips
// them without reporting each one.
func (p *parser) markBad(path string, keys []string) {
	for _, k := range keys {
		p.bad[join(path, k)] = true
	}
}

// scalar returns the scalar text of key in s. It returns ok=false (after reporting, when
// the key is required or malformed) if the key is absent, null or not a scalar.
func (p *parser) scalar(s *section, key string, required bool, want string) (v string, n *yaml.Node, ok bool) {
	field := join(s.path, key)
	if !s.ok {
		return "", nil, false // the section's own error covers it
	}
	n = s.vals[key]
	if n == nil {
		p.pos[field] = p.nodePos(s.node)
		if required {
			p.errorf(s.node, field, "missing (want %s)", want)
		}
		return "", nil, false
	}
	p.pos[field] = p.nodePos(n)
	switch {
	case n.Kind != yaml.ScalarNode:
		p.errorf(n, field, "want %s, got %s", want, yamlnode.Describe(n))
		return "", n, false
	case n.Tag == "!!null":
		p.errorf(n, field, "no value (want %s)", want)
		return "", n, false
	}
	p.raw[field] = n.Value
	return n.Value, n, true
}

// config walks the top-level mapping and its sections in the order of the fields table,
// reading each field by its kind. Optional fields left out keep their defaults.
func (p *parser) config(root *yaml.Node) *Config {
	c := &Config{AccBits: DefaultAccBits, ProcessNM: DefaultProcessNM, DRAMKind: DefaultDRAMKind}
	keys := topLevelKeys()
	top := p.section(root, root, "", keys, true)
	for _, key := range keys {
		fs := sectionFields(key)
		if len(fs) == 0 {
			p.field(top, fieldIndex[key], c)
			continue
		}
		required := slices.ContainsFunc(fs, func(f *Field) bool { return !f.Optional })
		n := top.vals[key]
		if n == nil && !required {
			continue
		}
		s := p.section(root, n, key, keysOf(fs), required)
		for _, f := range fs {
			p.field(s, f, c)
		}
	}
	return c
}

// field reads f from its section s into c.
func (p *parser) field(s *section, f *Field, c *Config) {
	key, required := f.Key(), !f.Optional
	want := f.want
	if want == "" {
		want = "a string"
		switch f.Kind {
		case KindDataflow:
			want = "one of os, ws, is"
		case KindDRAMKind:
			want = "one of " + dramKindList()
		default:
			if q, ok := f.Kind.quantity(); ok {
				want = q.want()
			}
		}
	}
	v, n, ok := p.scalar(s, key, required, want)
	if !ok {
		return
	}
	switch dst := f.ptr(c).(type) {
	case *string:
		*dst = v
	case *Dataflow:
		*dst = Dataflow(v)
		if !dst.Valid() {
			p.errorf(n, f.Path, "%s", dataflowMsg(v))
		}
	case *DRAMKind:
		*dst = DRAMKind(v)
		if !dst.Valid() {
			p.errorf(n, f.Path, "%s", dramKindMsg(v))
		}
	case *int:
		i, err := strconv.ParseInt(strings.TrimSpace(v), 10, 0)
		switch {
		case errors.Is(err, strconv.ErrRange):
			p.errorf(n, f.Path, "%q is too large", v)
		case err != nil:
			p.errorf(n, f.Path, "%q is not an integer, want %s", v, want)
		default:
			*dst = int(i)
		}
	case *int64:
		b, err := parseSize(v)
		if err != nil {
			p.errorf(n, f.Path, "%v", err)
		}
		*dst = b
	case *float64:
		q, _ := f.Kind.quantity()
		x, err := parseFloat(v, q)
		if err != nil {
			p.errorf(n, f.Path, "%v", err)
		}
		*dst = x
	}
}
