package models

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/vggsim/vggsim/internal/suggest"
	"github.com/vggsim/vggsim/internal/yamlnode"
	"go.yaml.in/yaml/v3"
)

// specKeys are the keys a model YAML file may hold, in documentation order.
var specKeys = []string{"family", "name", "num_blocks", "width_multiplier", "override_groups_map", "num_classes", "use_se", "input"}

// LoadSpec reads a model YAML file; see ParseSpec.
func LoadSpec(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s: %w", path, pe.Err)
		}
		return nil, err
	}
	return ParseSpec(path, data)
}

// ParseSpec parses and validates a custom RepVGG described in YAML (file names the source
// in error messages). The keys mirror the reference constructor:
//
//	family: repvgg                          # optional, the only family
//	name: my-net                            # optional; defaults to the file stem
//	num_blocks: [2, 1, 3, 1]                # blocks in stages 1–4
//	width_multiplier: [0.25, 0.25, 0.25, 0.125]
//	override_groups_map: {2: 4, 5: 4}       # optional; block index (from 1) → groups
//	num_classes: 7                          # optional; default 1000
//	use_se: false                           # optional; SE before every ReLU (D2se)
//	input: [32, 32]                         # optional H, W (or one number); default 224
//
// Parsing is strict: an unknown or duplicate key, a value of the wrong type, a groups-map
// index that does not exist or a group count that does not divide its block's channels are
// errors. Every problem is reported, each as "file:line:col: message", joined with newlines.
func ParseSpec(file string, data []byte) (*Spec, error) {
	p := specParser{file: file, pos: map[string]yamlPos{}}
	s, ok := p.parse(data)
	if !ok {
		return nil, errors.Join(p.errs...)
	}
	if s.Name == "" && file != "" {
		s.Name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	// Validate what parsed; a key that already failed is not reported again.
	for _, pr := range s.problems() {
		root, _, _ := strings.Cut(pr.field, "[")
		if !p.bad[root] {
			p.errorAt(p.posOf(pr.field), "%s: %s", pr.field, pr.msg)
		}
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return s, nil
}

type yamlPos struct{ line, col int }

// specParser walks the YAML node tree by hand: strictness (unknown and duplicate keys) and
// positions for every key and element, with every problem collected.
type specParser struct {
	file string
	pos  map[string]yamlPos // field ("num_blocks[2]", "override_groups_map[5]") → position
	bad  map[string]bool    // top-level keys whose value failed to parse, or that are missing
	errs []error
}

func (p *specParser) errorAt(at yamlPos, format string, args ...any) {
	loc := p.file
	if at.line > 0 {
		loc = fmt.Sprintf("%s:%d:%d", p.file, at.line, at.col)
	}
	p.errs = append(p.errs, fmt.Errorf("%s: %s", loc, fmt.Sprintf(format, args...)))
}

func posOfNode(n *yaml.Node) yamlPos { return yamlPos{n.Line, n.Column} }

// posOf returns the position recorded for field, falling back to its parent key
// ("num_blocks[2]" → "num_blocks") and then to the start of the file.
func (p *specParser) posOf(field string) yamlPos {
	if at, ok := p.pos[field]; ok {
		return at
	}
	if i := strings.IndexByte(field, '['); i > 0 {
		if at, ok := p.pos[field[:i]]; ok {
			return at
		}
	}
	return yamlPos{1, 1}
}

// parse decodes data into a Spec; ok is false when the document itself is unusable (not
// YAML, not a mapping), in which case validation is pointless.
func (p *specParser) parse(data []byte) (s *Spec, ok bool) {
	s = &Spec{}
	p.bad = map[string]bool{}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			p.errorAt(yamlPos{}, "empty model file")
			return s, false
		}
		if line, col, msg := yamlnode.SyntaxError(data, err); line > 0 {
			p.errorAt(yamlPos{line, col}, "%s", msg)
		} else {
			p.errorAt(locateAnchor(data, msg), "%s", msg)
		}
		return s, false
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		at := yamlPos{}
		if err == nil {
			at = posOfNode(&extra)
		}
		p.errorAt(at, "a model file holds one YAML document")
		return s, false
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	root = yamlnode.Deref(root)
	if root.Kind != yaml.MappingNode {
		p.errorAt(posOfNode(root), "a model file is a mapping of keys (%s)", strings.Join(specKeys, ", "))
		return s, false
	}
	seen := map[string]yamlPos{}
	required := map[string]bool{"num_blocks": true, "width_multiplier": true}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := yamlnode.Deref(root.Content[i]), yamlnode.Deref(root.Content[i+1])
		at := posOfNode(k)
		key := k.Value
		if k.Kind != yaml.ScalarNode {
			p.errorAt(at, "keys must be plain names")
			continue
		}
		if first, dup := seen[key]; dup {
			p.errorAt(at, "duplicate key %s (first at line %d)", key, first.line)
			continue
		}
		seen[key] = at
		p.pos[key] = at
		delete(required, key)
		nerr := len(p.errs)
		p.value(s, key, at, v)
		if len(p.errs) > nerr {
			p.bad[key] = true
		}
	}
	for _, k := range specKeys {
		if required[k] {
			p.errorAt(posOfNode(root), "missing required key %s", k)
			p.bad[k] = true
		}
	}
	return s, true
}

// value decodes the value v of the top-level key into s.
func (p *specParser) value(s *Spec, key string, at yamlPos, v *yaml.Node) {
	switch key {
	case "family":
		if str, ok := p.str(key, v); ok {
			s.Family = str
		}
	case "name":
		if v.Kind == yaml.ScalarNode && v.Value != "" {
			s.Name = v.Value
		} else {
			p.errorAt(posOfNode(v), "name: want a name, got %s", yamlnode.Describe(v))
		}
	case "num_blocks":
		for j, n := range p.list(key, v, 4, 4) {
			if x, ok := p.integer(fmt.Sprintf("%s[%d]", key, j), n); ok {
				s.NumBlocks[j] = x
			}
		}
	case "width_multiplier":
		for j, n := range p.list(key, v, 4, 4) {
			if x, ok := p.number(fmt.Sprintf("%s[%d]", key, j), n); ok {
				s.WidthMultiplier[j] = x
			}
		}
	case "override_groups_map":
		s.OverrideGroupsMap = p.groupsMap(key, v)
	case "num_classes":
		if x, ok := p.integer(key, v); ok {
			if x < 1 {
				p.errorAt(posOfNode(v), "num_classes: %d classes; want at least 1", x)
			} else {
				s.NumClasses = x
			}
		}
	case "use_se":
		var b bool
		if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool" && v.Decode(&b) == nil {
			s.UseSE = b
		} else {
			p.errorAt(posOfNode(v), "use_se: want true or false, got %s", yamlnode.Describe(v))
		}
	case "input":
		p.input(s, v)
	default:
		hint := ""
		if near, d := nearestKey(key); d <= max(2, len(key)/4) {
			hint = "did you mean " + near + "? "
		}
		p.errorAt(at, "unknown key %q (%sknown keys: %s)", key, hint, strings.Join(specKeys, ", "))
	}
}

// nearestKey returns the known key closest to key in edit distance, and the distance.
func nearestKey(key string) (string, int) {
	best, bestDist := "", -1
	for _, k := range specKeys {
		if d := suggest.Distance(strings.ToLower(key), k); bestDist < 0 || d < bestDist {
			best, bestDist = k, d
		}
	}
	return best, bestDist
}

var anchorRE = regexp.MustCompile(`^unknown anchor '([^']*)' referenced$`)

// locateAnchor finds the position of the alias an "unknown anchor" error is about, which
// yaml.v3 reports without a line; the zero position otherwise.
func locateAnchor(data []byte, msg string) yamlPos {
	m := anchorRE.FindStringSubmatch(msg)
	if m == nil {
		return yamlPos{}
	}
	i := bytes.Index(data, []byte("*"+m[1]))
	if i < 0 {
		return yamlPos{}
	}
	line := bytes.Count(data[:i], []byte("\n")) + 1
	col := i - bytes.LastIndexByte(data[:i], '\n')
	return yamlPos{line, col}
}

func (p *specParser) str(field string, n *yaml.Node) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		p.errorAt(posOfNode(n), "%s: want a string, got %s", field, yamlnode.Describe(n))
		return "", false
	}
	return n.Value, true
}

// list checks that n is a sequence of lo..hi elements and returns them.
func (p *specParser) list(field string, n *yaml.Node, lo, hi int) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		p.errorAt(posOfNode(n), "%s: want a list of %d numbers, got %s", field, lo, yamlnode.Describe(n))
		return nil
	}
	if len(n.Content) < lo || len(n.Content) > hi {
		want := strconv.Itoa(lo)
		if hi != lo {
			want = fmt.Sprintf("%d or %d", lo, hi)
		}
		p.errorAt(posOfNode(n), "%s: want %s values (one per stage 1–4), got %d", field, want, len(n.Content))
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = yamlnode.Deref(c)
		p.pos[fmt.Sprintf("%s[%d]", field, i)] = posOfNode(out[i])
	}
	return out
}

// integer decodes an integer scalar that fits comfortably in an int.
func (p *specParser) integer(field string, n *yaml.Node) (int, bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		var x int64
		if err := n.Decode(&x); err == nil && x >= -1<<31 && x < 1<<31 {
			return int(x), true
		}
		p.errorAt(posOfNode(n), "%s: integer %s out of range", field, yamlnode.Describe(n))
		return 0, false
	}
	p.errorAt(posOfNode(n), "%s: want an integer, got %s", field, yamlnode.Describe(n))
	return 0, false
}

// number decodes an integer or float scalar.
func (p *specParser) number(field string, n *yaml.Node) (float64, bool) {
	if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
		var x float64
		if err := n.Decode(&x); err == nil && !math.IsNaN(x) && !math.IsInf(x, 0) {
			return x, true
		}
	}
	p.errorAt(posOfNode(n), "%s: want a number, got %s", field, yamlnode.Describe(n))
	return 0, false
}

func (p *specParser) groupsMap(field string, n *yaml.Node) map[int]int {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errorAt(posOfNode(n), "%s: want a mapping of block index to groups, e.g. {2: 4, 4: 4}, got %s", field, yamlnode.Describe(n))
		return nil
	}
	m := map[int]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := yamlnode.Deref(n.Content[i]), yamlnode.Deref(n.Content[i+1])
		idx, ok := p.integer(field+" key", k)
		if !ok {
			continue
		}
		f := fmt.Sprintf("%s[%d]", field, idx)
		if first, dup := p.pos[f]; dup {
			p.errorAt(posOfNode(k), "%s: duplicate block index %d (first at line %d)", field, idx, first.line)
			continue
		}
		p.pos[f] = posOfNode(k)
		if g, ok := p.integer(f, v); ok {
			m[idx] = g
		}
	}
	return m
}

func (p *specParser) input(s *Spec, n *yaml.Node) {
	var hw []int
	if n.Kind == yaml.ScalarNode {
		if x, ok := p.integer("input", n); ok {
			hw = []int{x, x}
		}
	} else {
		for j, c := range p.list("input", n, 1, 2) {
			if x, ok := p.integer(fmt.Sprintf("input[%d]", j), c); ok {
				hw = append(hw, x)
			}
		}
		if len(hw) == 1 && len(n.Content) == 1 {
			hw = append(hw, hw[0])
		}
	}
	if len(hw) != 2 {
		return
	}
	for _, x := range hw {
		if x < 1 || x > maxInput {
			p.errorAt(posOfNode(n), "input: %d pixels; want 1..%d per side", x, maxInput)
			return
		}
	}
	s.InputH, s.InputW = hw[0], hw[1]
}

// YAML returns s in the model file format; ParseSpec(file, s.YAML()) gives s back.
func (s *Spec) YAML() []byte {
	var b strings.Builder
	fam := s.Family
	if fam == "" {
		fam = "repvgg"
	}
	fmt.Fprintf(&b, "family: %s\n", fam)
	if s.Name != "" {
		fmt.Fprintf(&b, "name: %s\n", strconv.Quote(s.Name))
	}
	fmt.Fprintf(&b, "num_blocks: [%d, %d, %d, %d]\n", s.NumBlocks[0], s.NumBlocks[1], s.NumBlocks[2], s.NumBlocks[3])
	w := make([]string, 4)
	for i, m := range s.WidthMultiplier {
		w[i] = strconv.FormatFloat(m, 'g', -1, 64)
	}
	fmt.Fprintf(&b, "width_multiplier: [%s]\n", strings.Join(w, ", "))
	if len(s.OverrideGroupsMap) > 0 {
		keys := slices.Sorted(maps.Keys(s.OverrideGroupsMap))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%d: %d", k, s.OverrideGroupsMap[k])
		}
		fmt.Fprintf(&b, "override_groups_map: {%s}\n", strings.Join(parts, ", "))
	}
	if s.NumClasses > 0 {
		fmt.Fprintf(&b, "num_classes: %d\n", s.NumClasses)
	}
	fmt.Fprintf(&b, "use_se: %t\n", s.UseSE)
	if s.InputH > 0 {
		fmt.Fprintf(&b, "input: [%d, %d]\n", s.InputH, s.InputW)
	}
	return []byte(b.String())
}

// ZooSpec returns the Spec of a RepVGG model of the zoo (a copy; the caller may change
// it), e.g. as the starting point of a custom net. It fails for the other families.
func ZooSpec(name string) (*Spec, error) {
	e, err := lookup(name)
	if err != nil {
		return nil, err
	}
	s, ok := zooSpecs[e.name]
	if !ok {
		return nil, fmt.Errorf("model %s is not a RepVGG; only RepVGG models have a Spec", e.name)
	}
	c := *s
	c.OverrideGroupsMap = maps.Clone(s.OverrideGroupsMap)
	return &c, nil
}
