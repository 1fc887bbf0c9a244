package sweep

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/internal/yamlnode"
	"github.com/vggsim/vggsim/models"
	"go.yaml.in/yaml/v3"
)

// Study is a parsed, checked study file (docs/studies/README.md has the reference): the
// workloads (models × forms × inputs × batches), the base hardware, the axes, the
// constraints, the Pareto objectives and the area model. It is never changed after Parse.
type Study struct {
	Name        string
	Description string
	File        string // the study file, as given

	Models   []ModelRef
	Batches  []int
	Inputs   [][2]int // H, W
	Hardware *hw.Config
	Axes     []Axis

	constraints []constraint
	Objectives  []Objective
	// Front is "workload" (a Pareto front per model, form, input and batch, the default)
	// or "all" (one front over every point).
	Front string
	Area  AreaModel
}

// ModelRef is one entry of a study's models: a zoo name, a model YAML file or an IR text
// file (.ir), and the forms to run it in.
type ModelRef struct {
	Arg   string   // as written; files resolved against the study's directory in Path
	Path  string   // the argument to build from
	Forms []string // "train", "deploy" or both, in that order
}

// Axis is one dimension of the grid: a field and its values, or several zipped fields whose
// values vary together (Values[i] holds one value per field).
type Axis struct {
	Fields []*Field
	Values [][]Value
}

// AreaModel is the area proxy: PEmm2 per processing element plus SRAMmm2PerKiB per KiB of
// on-chip storage (the three operand SRAMs and the accumulators). The defaults come from
// the TPU v1 floorplan (Jouppi et al., ISCA 2017, 28 nm): the 65,536-MAC matrix unit takes
// 24 % of a ≤ 331 mm² die, ≈ 0.0012 mm² per int8 PE; the 24 MiB unified buffer 29 %,
// ≈ 0.0039 mm² per KiB. It ranks designs; it is not a layout.
type AreaModel struct {
	PEmm2         float64
	SRAMmm2PerKiB float64
}

// DefaultArea returns the TPU-v1-derived area proxy coefficients.
func DefaultArea() AreaModel { return AreaModel{PEmm2: 0.0012, SRAMmm2PerKiB: 0.0039} }

// Of returns the area proxy of c in mm².
func (a AreaModel) Of(c *hw.Config) float64 {
	return a.PEmm2*float64(c.PEs()) + a.SRAMmm2PerKiB*float64(c.SRAMBytes())/1024
}

// Objective is one Pareto objective: a result column and whether larger is better.
type Objective struct {
	Name     string
	Column   string
	Maximize bool
}

// objectives are the metrics a study may name, with their columns.
var objectives = []Objective{
	{"latency", "latency_s", false},
	{"energy", "energy_per_image_j", false},
	{"dram", "dram_bytes_per_image", false},
	{"area", "area_mm2", false},
	{"cycles", "cycles", false},
	{"throughput", "throughput_ips", true},
	{"utilization", "utilization", true},
}

// ObjectiveNames returns the names a study's objectives (and merge --pareto) accept.
func ObjectiveNames() []string {
	ns := make([]string, len(objectives))
	for i, o := range objectives {
		ns[i] = o.Name
	}
	return ns
}

// LookupObjective returns the objective with the given name.
func LookupObjective(name string) (Objective, error) {
	for _, o := range objectives {
		if o.Name == name || o.Column == name {
			return o, nil
		}
	}
	return Objective{}, fmt.Errorf("unknown objective %q%s; want one of %s", name,
		didYouMean(name, ObjectiveNames()), strings.Join(ObjectiveNames(), ", "))
}

var studyKeys = []string{"name", "description", "models", "form", "batch", "input", "hardware", "axes", "constraints", "objectives", "front", "area"}

// Limits on a study's size.
const (
	maxAxisValues = 100000
	maxPoints     = 50_000_000
)

// Load reads and parses the study file at path.
func Load(path string) (*Study, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse parses and checks a study; filename names it in errors and anchors relative model
// and hardware paths. Every problem is reported, as an ErrorList of "file:line:col: field:
// message" lines.
func Parse(filename string, data []byte) (*Study, error) {
	p := &studyParser{file: filename, dir: filepath.Dir(filename)}
	s := p.parse(data)
	if len(p.errs) > 0 {
		p.errs.Sort()
		return nil, p.errs
	}
	return s, nil
}

type studyParser struct {
	file string
	dir  string
	errs ErrorList
}

func (p *studyParser) pos(n *yaml.Node) Pos {
	return Pos{Filename: p.file, Line: n.Line, Col: n.Column}
}

func (p *studyParser) errorf(n *yaml.Node, field, format string, args ...any) {
	pos := Pos{Filename: p.file}
	if n != nil {
		pos = p.pos(n)
	}
	p.errs = append(p.errs, &Error{Pos: pos, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (p *studyParser) parse(data []byte) *Study {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errs = append(p.errs, &Error{Pos: Pos{Filename: p.file, Line: 1, Col: 1}, Msg: "empty study, want a mapping with name, models and axes"})
			return nil
		}
		line, col, msg := yamlnode.SyntaxError(data, err)
		p.errs = append(p.errs, &Error{Pos: Pos{Filename: p.file, Line: line, Col: col}, Msg: "yaml: " + msg})
		return nil
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	root = yamlnode.Deref(root)
	if root.Kind != yaml.MappingNode {
		p.errorf(root, "", "want a mapping with name, models and axes, got %s", yamlnode.Describe(root))
		return nil
	}
	vals := p.mapping(root, "", studyKeys)
	s := &Study{File: p.file, Front: "workload", Area: DefaultArea(), Batches: []int{1}, Inputs: [][2]int{{models.DefaultInput, models.DefaultInput}}}
	s.Name = p.str(vals, root, "name", true)
	s.Description = p.str(vals, root, "description", false)
	form := []string{"deploy"}
	if n := vals["form"]; n != nil {
		form = p.form(n, "form")
	}
	if n := vals["models"]; n != nil {
		s.Models = p.models(n, form)
	} else {
		p.errorf(root, "models", "missing (want a list of zoo names or model files)")
	}
	if n := vals["batch"]; n != nil {
		s.Batches = nil
		for _, e := range p.scalars(n, "batch") {
			if b, err := strconv.Atoi(e.Value); err != nil || b < 1 || b > 1<<16 {
				p.errorf(e, "batch", "want a whole number from 1 to 65536, got %s", yamlnode.Describe(e))
			} else {
				s.Batches = append(s.Batches, b)
			}
		}
	}
	if n := vals["input"]; n != nil {
		s.Inputs = nil
		for _, e := range p.scalars(n, "input") {
			if hw, ok := parseInput(e.Value); ok {
				s.Inputs = append(s.Inputs, hw)
			} else {
				p.errorf(e, "input", "want a size such as 224 or 224x320, got %s", yamlnode.Describe(e))
			}
		}
	}
	s.Hardware = hw.Default()
	if n := vals["hardware"]; n != nil {
		s.Hardware = p.hardware(n)
	}
	if n := vals["axes"]; n != nil {
		s.Axes = p.axes(n)
	}
	if n := vals["constraints"]; n != nil {
		s.constraints = p.constraints(n)
	}
	s.Objectives = []Objective{objectives[0], objectives[1]}
	if n := vals["objectives"]; n != nil {
		s.Objectives = p.objectives(n)
	}
	if n := vals["front"]; n != nil {
		if n.Kind != yaml.ScalarNode || (n.Value != "workload" && n.Value != "all") {
			p.errorf(n, "front", "want workload or all, got %s", yamlnode.Describe(n))
		} else {
			s.Front = n.Value
		}
	}
	if n := vals["area"]; n != nil {
		s.Area = p.area(n)
	}
	if len(p.errs) == 0 {
		total := float64(len(s.Models)*len(s.Batches)*len(s.Inputs)) * 2
		for _, a := range s.Axes {
			total *= float64(len(a.Values))
		}
		if total > maxPoints {
			p.errorf(vals["axes"], "axes", "the grid has %.3g points, more than %d", total, maxPoints)
		}
	}
	return s
}

// mapping checks n's keys against known (each once) and returns key → value.
func (p *studyParser) mapping(n *yaml.Node, path string, known []string) map[string]*yaml.Node {
	vals := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := yamlnode.Deref(n.Content[i]), yamlnode.Deref(n.Content[i+1])
		field := join(path, k.Value)
		if _, dup := vals[k.Value]; dup {
			p.errorf(k, field, "duplicate key")
			continue
		}
		if known != nil && !slices.Contains(known, k.Value) {
			p.errorf(k, field, "unknown key%s; want one of %s", didYouMean(k.Value, known), strings.Join(known, ", "))
			continue
		}
		vals[k.Value] = v
	}
	return vals
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (p *studyParser) str(vals map[string]*yaml.Node, parent *yaml.Node, key string, required bool) string {
	n := vals[key]
	if n == nil {
		if required {
			p.errorf(parent, key, "missing")
		}
		return ""
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, key, "want a string, got %s", yamlnode.Describe(n))
		return ""
	}
	return n.Value
}

// scalars returns n's scalars: n itself, or the items of a list of scalars.
func (p *studyParser) scalars(n *yaml.Node, field string) []*yaml.Node {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return []*yaml.Node{n}
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errorf(n, field, "want a value or a non-empty list, got %s", yamlnode.Describe(n))
		return nil
	}
	var out []*yaml.Node
	for _, e := range n.Content {
		e = yamlnode.Deref(e)
		if e.Kind != yaml.ScalarNode || e.Tag == "!!null" {
			p.errorf(e, field, "want a value, got %s", yamlnode.Describe(e))
			continue
		}
		out = append(out, e)
	}
	return out
}

func (p *studyParser) form(n *yaml.Node, field string) []string {
	if n.Kind == yaml.ScalarNode {
		switch n.Value {
		case "train", "deploy":
			return []string{n.Value}
		case "both":
			return []string{"train", "deploy"}
		}
	}
	p.errorf(n, field, "want train, deploy or both, got %s", yamlnode.Describe(n))
	return []string{"deploy"}
}

// parseInput reads 224 or 224x320.
func parseInput(s string) ([2]int, bool) {
	hs, ws, found := strings.Cut(strings.ToLower(s), "x")
	h, err := strconv.Atoi(strings.TrimSpace(hs))
	if err != nil || h < 1 || h > 8192 {
		return [2]int{}, false
	}
	w := h
	if found {
		if w, err = strconv.Atoi(strings.TrimSpace(ws)); err != nil || w < 1 || w > 8192 {
			return [2]int{}, false
		}
	}
	return [2]int{h, w}, true
}

// resolvePath anchors a relative file argument at the study's directory.
func (p *studyParser) resolvePath(arg string) string {
	if filepath.IsAbs(arg) {
		return arg
	}
	return filepath.Join(p.dir, arg)
}

func isIRPath(arg string) bool { return models.IsIRPath(arg) }

func (p *studyParser) models(n *yaml.Node, form []string) []ModelRef {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.errorf(n, "models", "want a non-empty list of zoo names or model files, got %s", yamlnode.Describe(n))
		return nil
	}
	var out []ModelRef
	for i, e := range n.Content {
		e = yamlnode.Deref(e)
		field := fmt.Sprintf("models[%d]", i)
		m := ModelRef{Forms: form}
		argNode := e
		switch e.Kind {
		case yaml.ScalarNode:
			m.Arg = e.Value
		case yaml.MappingNode:
			vals := p.mapping(e, field, []string{"model", "form"})
			argNode = vals["model"]
			if argNode == nil || argNode.Kind != yaml.ScalarNode {
				p.errorf(e, field+".model", "missing (want a zoo name or a model file)")
				continue
			}
			m.Arg = argNode.Value
			if f := vals["form"]; f != nil {
				m.Forms = p.form(f, field+".form")
			}
		default:
			p.errorf(e, field, "want a zoo name, a model file or a mapping with model and form, got %s", yamlnode.Describe(e))
			continue
		}
		if isIRPath(m.Arg) || models.IsSpecPath(m.Arg) || models.IsSpecPath(p.resolvePath(m.Arg)) {
			m.Path = p.resolvePath(m.Arg)
			if _, err := os.Stat(m.Path); err != nil {
				p.errorf(argNode, field, "model file %s: %v", m.Arg, unwrapPath(err))
				continue
			}
			// Read it now, so a bad model file is an error at its line in the study (and
			// its own position in the file), not a failed status on every point.
			var err error
			if isIRPath(m.Path) {
				_, err = models.LoadIR(m.Path)
			} else {
				_, err = models.LoadSpec(m.Path)
			}
			if err != nil {
				p.errorf(argNode, field, "model file %s: %s", m.Arg, oneLine(err))
				continue
			}
		} else {
			name, err := models.CanonicalName(m.Arg)
			if err != nil {
				p.errorf(argNode, field, "%v", err)
				continue
			}
			m.Path = name
		}
		out = append(out, m)
	}
	return out
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (p *studyParser) hardware(n *yaml.Node) *hw.Config {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, "hardware", "want a preset name or a hardware YAML file, got %s", yamlnode.Describe(n))
		return hw.Default()
	}
	if c, err := hw.Preset(n.Value); err == nil {
		return c
	}
	path := p.resolvePath(n.Value)
	if _, err := os.Stat(path); err != nil {
		p.errorf(n, "hardware", "%q is neither a preset (%s) nor a file", n.Value, strings.Join(hw.PresetNames(), ", "))
		return hw.Default()
	}
	c, err := hw.Load(path)
	if err != nil {
		first, _, _ := strings.Cut(err.Error(), "\n")
		p.errorf(n, "hardware", "%s", first)
		return hw.Default()
	}
	return c
}

// rangeRe matches "lo..hi", "lo..hi *k" and "lo..hi +step".
var rangeRe = regexp.MustCompile(`^\s*(\S+?)\s*\.\.\s*(\S+)(?:\s+([*+])\s*(\S+))?\s*$`)

func (p *studyParser) axes(n *yaml.Node) []Axis {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "axes", "want a mapping of field paths to values, got %s", yamlnode.Describe(n))
		return nil
	}
	var out []Axis
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := yamlnode.Deref(n.Content[i]), yamlnode.Deref(n.Content[i+1])
		key := k.Value
		if prev, dup := seen[key]; dup {
			p.errorf(k, "axes."+key, "duplicate axis (first at line %d)", prev.Line)
			continue
		}
		seen[key] = k
		if key == "zip" || strings.HasPrefix(key, "zip-") {
			out = append(out, p.zip(k, v, "axes."+key, seen))
			continue
		}
		f := p.field(k, "axes."+key)
		if f == nil {
			continue
		}
		vals := p.values(f, v, "axes."+key)
		if vals == nil {
			continue
		}
		a := Axis{Fields: []*Field{f}}
		for _, x := range vals {
			a.Values = append(a.Values, []Value{x})
		}
		out = append(out, a)
	}
	return out
}

func (p *studyParser) field(k *yaml.Node, field string) *Field {
	f := lookupField(k.Value)
	if f == nil {
		p.errorf(k, field, "unknown hardware field%s; want one of %s, or zip", didYouMean(k.Value, fieldPaths()), strings.Join(fieldPaths(), ", "))
	}
	return f
}

func (p *studyParser) zip(k, v *yaml.Node, field string, seen map[string]*yaml.Node) Axis {
	var a Axis
	if v.Kind != yaml.MappingNode || len(v.Content) < 4 {
		p.errorf(v, field, "want a mapping of two or more field paths to lists of equal length, got %s", yamlnode.Describe(v))
		return a
	}
	var cols [][]Value
	var first *yaml.Node
	for i := 0; i+1 < len(v.Content); i += 2 {
		fk, fv := yamlnode.Deref(v.Content[i]), yamlnode.Deref(v.Content[i+1])
		if prev, dup := seen[fk.Value]; dup {
			p.errorf(fk, field+"."+fk.Value, "field already swept (line %d)", prev.Line)
			continue
		}
		seen[fk.Value] = fk
		f := p.field(fk, field+"."+fk.Value)
		if f == nil {
			continue
		}
		vals := p.values(f, fv, field+"."+fk.Value)
		if vals == nil {
			continue
		}
		if len(cols) > 0 && len(vals) != len(cols[0]) {
			p.errorf(fv, field+"."+fk.Value, "%d values, but %s has %d: zipped axes vary together", len(vals), first.Value, len(cols[0]))
			continue
		}
		if first == nil {
			first = fk
		}
		a.Fields = append(a.Fields, f)
		cols = append(cols, vals)
	}
	if len(cols) == 0 {
		return Axis{}
	}
	for r := range cols[0] {
		row := make([]Value, len(cols))
		for c := range cols {
			row[c] = cols[c][r]
		}
		a.Values = append(a.Values, row)
	}
	return a
}

// values reads an axis's values: a list, a range string, or one value.
func (p *studyParser) values(f *Field, n *yaml.Node, field string) []Value {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		if m := rangeRe.FindStringSubmatch(n.Value); m != nil {
			vs, err := expandRange(f, m[1], m[2], m[3], m[4])
			if err != nil {
				p.errorf(n, field, "range %q: %v", n.Value, err)
				return nil
			}
			return vs
		}
	}
	var out []Value
	for _, e := range p.scalars(n, field) {
		v, err := f.parse(e.Value)
		if err != nil {
			p.errorf(e, field, "%v", err)
			return nil
		}
		out = append(out, v)
	}
	if len(out) > maxAxisValues {
		p.errorf(n, field, "%d values, more than %d", len(out), maxAxisValues)
		return nil
	}
	return out
}

// expandRange lists lo, lo⊕step, … up to hi inclusive (⊕ is + or ×). Without a step an
// integer field counts by one.
func expandRange(f *Field, los, his, op, steps string) ([]Value, error) {
	if !f.Numeric() {
		return nil, fmt.Errorf("%s takes names, not ranges", f.Path)
	}
	lo, err := f.parse(los)
	if err != nil {
		return nil, err
	}
	hi, err := f.parse(his)
	if err != nil {
		return nil, err
	}
	if hi.Num < lo.Num {
		return nil, fmt.Errorf("the end %s is below the start %s", his, los)
	}
	var step float64
	switch op {
	case "":
		if f.kind != kindInt {
			return nil, errors.New("give a step: lo..hi *factor or lo..hi +step")
		}
		op, step = "+", 1
	case "*":
		step, err = strconv.ParseFloat(steps, 64)
		if err != nil || !(step > 1) || math.IsInf(step, 0) {
			return nil, fmt.Errorf("factor %q: want a number above 1", steps)
		}
	case "+":
		v, err := f.parse(steps)
		if err != nil {
			return nil, err
		}
		if step = v.Num; !(step > 0) {
			return nil, fmt.Errorf("step %q: want a positive step", steps)
		}
	}
	var out []Value
	tol := 1e-9 * math.Max(1, math.Abs(hi.Num))
	for x := lo.Num; x <= hi.Num+tol; {
		v := x
		if f.integral() {
			v = math.Round(x)
		}
		out = append(out, Value{Num: v})
		if len(out) > maxAxisValues {
			return nil, fmt.Errorf("more than %d values", maxAxisValues)
		}
		if op == "*" {
			x *= step
		} else {
			x += step
		}
	}
	return out, nil
}

func (p *studyParser) constraints(n *yaml.Node) []constraint {
	items := p.scalars(n, "constraints")
	var out []constraint
	for i, e := range items {
		root, err := parseConstraint(e.Value)
		field := fmt.Sprintf("constraints[%d]", i)
		if n.Kind == yaml.ScalarNode {
			field = "constraints"
		}
		if err != nil {
			pos := p.pos(e)
			var ee *exprError
			if errors.As(err, &ee) {
				pos.Col += ee.off
				if e.Style == yaml.DoubleQuotedStyle || e.Style == yaml.SingleQuotedStyle {
					pos.Col++
				}
			}
			p.errs = append(p.errs, &Error{Pos: pos, Field: field, Msg: fmt.Sprintf("%q: %v", e.Value, err)})
			continue
		}
		out = append(out, constraint{text: e.Value, root: root, pos: p.pos(e)})
	}
	return out
}

func (p *studyParser) objectives(n *yaml.Node) []Objective {
	var out []Objective
	for _, e := range p.scalars(n, "objectives") {
		o, err := LookupObjective(e.Value)
		if err != nil {
			p.errorf(e, "objectives", "%v", err)
			continue
		}
		out = append(out, o)
	}
	return out
}

func (p *studyParser) area(n *yaml.Node) AreaModel {
	a := DefaultArea()
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "area", "want a mapping with pe_mm2 and sram_mm2_per_kib, got %s", yamlnode.Describe(n))
		return a
	}
	vals := p.mapping(n, "area", []string{"pe_mm2", "sram_mm2_per_kib"})
	for key, dst := range map[string]*float64{"pe_mm2": &a.PEmm2, "sram_mm2_per_kib": &a.SRAMmm2PerKiB} {
		if v := vals[key]; v != nil {
			x, err := strconv.ParseFloat(v.Value, 64)
			if err != nil || x < 0 || math.IsInf(x, 0) || v.Kind != yaml.ScalarNode {
				p.errorf(v, "area."+key, "want a number of mm² ≥ 0, got %s", yamlnode.Describe(v))
				continue
			}
			*dst = x
		}
	}
	return a
}
