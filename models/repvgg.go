package models

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/vggsim/vggsim/ir"
)

// Spec is a RepVGG network as the reference constructor RepVGG(num_blocks, num_classes,
// width_multiplier, override_groups_map, use_se) defines it. The zoo's RepVGG models are
// Specs; custom ones come from YAML (see ParseSpec). A Spec is validated by Build; it is
// not modified after parsing.
type Spec struct {
	Name              string      // graph name; defaults to the file stem, or "RepVGG"
	Family            string      // "repvgg" (the only family so far); empty means repvgg
	NumBlocks         [4]int      // blocks in stages 1–4
	WidthMultiplier   [4]float64  // a, a, a, b of the paper (one per stage 1–4)
	OverrideGroupsMap map[int]int // block index (1 = stage1's first block) → conv groups
	NumClasses        int         // classifier outputs; 0 means the default (1000)
	UseSE             bool        // squeeze-and-excitation before every block's ReLU (D2se)
	InputH, InputW    int         // default input size; 0 means 224 (or Options)
}

// Sanity limits on specs and options, far above any real network, which keep every count
// within int64 and a malicious file from building a graph of millions of nodes.
const (
	maxBlocksPerStage = 128
	maxWidth          = 8192
	maxInput          = 8192
	maxClasses        = 1 << 20
	maxGroups         = maxWidth
)

// stageBase is the channel base of stages 1–4 before the width multiplier.
var stageBase = [4]int{64, 128, 256, 512}

// mulWidth is Python's int(base * m) for a float multiplier: the product truncated toward
// zero. It is computed at run time in float64, as CPython does, never as an exact constant.
func mulWidth(base int, m float64) int {
	p := float64(base) * m
	if !(p < maxWidth*4) { // NaN, +Inf or absurdly large: reported by problems
		return maxWidth * 4
	}
	if p < 0 {
		return 0
	}
	return int(p)
}

// blockCfg is one RepVGG block of a spec.
type blockCfg struct {
	name                    string // "stage0", "stage2.3"
	index                   int    // 0 for stage0, then 1, 2, … across stages 1–4
	stage                   int    // 0–4
	in, out, stride, groups int
}

// blocks lays out the blocks of s as the reference's _make_stage does.
func (s *Spec) blocks() []blockCfg {
	in := min(64, mulWidth(64, s.WidthMultiplier[0]))
	bs := []blockCfg{{name: "stage0", in: 3, out: in, stride: 2, groups: 1}}
	idx := 1
	for st := range 4 {
		planes := mulWidth(stageBase[st], s.WidthMultiplier[st])
		n := min(max(s.NumBlocks[st], 0), maxBlocksPerStage)
		for i := range n {
			stride := 1
			if i == 0 {
				stride = 2
			}
			g, ok := s.OverrideGroupsMap[idx]
			if !ok {
				g = 1
			}
			bs = append(bs, blockCfg{
				name: fmt.Sprintf("stage%d.%d", st+1, i), index: idx, stage: st + 1,
				in: in, out: planes, stride: stride, groups: g,
			})
			in = planes
			idx++
		}
	}
	return bs
}

// specProblem is one validation failure: the YAML field it concerns ("num_blocks[2]",
// "override_groups_map[5]") and what is wrong.
type specProblem struct {
	field string
	msg   string
}

// problems validates s and returns every failure found, in field order.
func (s *Spec) problems() []specProblem {
	var ps []specProblem
	add := func(field, format string, args ...any) {
		ps = append(ps, specProblem{field, fmt.Sprintf(format, args...)})
	}
	if s.Family != "" && s.Family != "repvgg" {
		add("family", "unknown family %q; only \"repvgg\" is supported", s.Family)
	}
	blocksOK := true
	for i, n := range s.NumBlocks {
		if n < 1 || n > maxBlocksPerStage {
			add(fmt.Sprintf("num_blocks[%d]", i), "stage %d has %d blocks; want 1..%d", i+1, n, maxBlocksPerStage)
			blocksOK = false
		}
	}
	widthsOK := true
	for i, m := range s.WidthMultiplier {
		f := fmt.Sprintf("width_multiplier[%d]", i)
		w := mulWidth(stageBase[i], m)
		switch {
		case math.IsNaN(m) || math.IsInf(m, 0) || m <= 0:
			add(f, "multiplier %v must be a positive number", m)
			widthsOK = false
		case w < 1:
			add(f, "stage %d width int(%d·%v) = 0 channels", i+1, stageBase[i], m)
			widthsOK = false
		case w > maxWidth:
			add(f, "stage %d width int(%d·%v) exceeds %d channels", i+1, stageBase[i], m, maxWidth)
			widthsOK = false
		}
	}
	if s.NumClasses < 0 || s.NumClasses > maxClasses {
		add("num_classes", "%d classes; want 1..%d", s.NumClasses, maxClasses)
	}
	if s.InputH < 0 || s.InputH > maxInput || s.InputW < 0 || s.InputW > maxInput {
		add("input", "input %dx%d; want 1..%d pixels per side", s.InputH, s.InputW, maxInput)
	}
	if !widthsOK || !blocksOK {
		// Block layout is meaningless; the groups map cannot be checked.
		return ps
	}
	bs := s.blocks()
	last := len(bs) - 1
	for _, k := range slices.Sorted(maps.Keys(s.OverrideGroupsMap)) {
		g := s.OverrideGroupsMap[k]
		f := fmt.Sprintf("override_groups_map[%d]", k)
		switch {
		case k == 0:
			add(f, "block 0 is stage0, which is never grouped (the reference asserts 0 not in override_groups_map); valid indices are 1..%d (%s)", last, stageRanges(bs))
			continue
		case k < 0 || k > last:
			add(f, "block %d does not exist; valid indices are 1..%d (%s)", k, last, stageRanges(bs))
			continue
		}
		b := bs[k]
		switch {
		case g < 1 || g > maxGroups:
			add(f, "groups %d must be a positive integer", g)
		case b.in%g != 0 || b.out%g != 0:
			add(f, "groups %d does not divide the channels of block %d (%s: %d in, %d out)", g, k, b.name, b.in, b.out)
		}
	}
	if s.UseSE {
		for _, b := range bs {
			if b.out/16 < 1 {
				add("use_se", "block %s has %d channels; squeeze-and-excitation needs at least 16 (internal width C/16)", b.name, b.out)
				break
			}
		}
	}
	return ps
}

// stageRanges describes which block indices each stage holds: "stage1 1..2, stage2 3..6, …".
func stageRanges(bs []blockCfg) string {
	var parts []string
	for st := 1; st <= 4; st++ {
		lo, hi := -1, -1
		for _, b := range bs {
			if b.stage == st {
				if lo < 0 {
					lo = b.index
				}
				hi = b.index
			}
		}
		if lo == hi {
			parts = append(parts, fmt.Sprintf("stage%d %d", st, lo))
		} else {
			parts = append(parts, fmt.Sprintf("stage%d %d..%d", st, lo, hi))
		}
	}
	return strings.Join(parts, ", ")
}

// name returns the graph name of s.
func (s *Spec) name() string {
	if s.Name != "" {
		return s.Name
	}
	return "RepVGG"
}

// Validate reports every problem of s, joined, or nil. ParseSpec reports the same problems
// with their file positions.
func (s *Spec) Validate() error {
	ps := s.problems()
	if len(ps) == 0 {
		return nil
	}
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = fmt.Errorf("model %s: %s: %s", s.name(), p.field, p.msg)
	}
	return errors.Join(errs...)
}

// checkOptions validates the resolved options shared by every family.
func checkOptions(name string, o Options) error {
	if o.InputH > maxInput || o.InputW > maxInput {
		return fmt.Errorf("model %s: input %dx%d too large (at most %d pixels per side)", name, o.InputH, o.InputW, maxInput)
	}
	if o.NumClasses > maxClasses {
		return fmt.Errorf("model %s: %d classes; at most %d", name, o.NumClasses, maxClasses)
	}
	return nil
}

// Build returns the graph of s in the form and at the size opts selects.
//
// Train form, per block (stage0, then stageK.i for stages 1–4):
//
//	(ReLU (Add (BN (Conv3x3 x)) (BN (Conv1x1 x)) [(BN x)]))   names rbr_dense.{conv,bn}, rbr_1x1.{conv,bn}, rbr_identity, add, relu
//
// the identity BN only when in == out and stride == 1. Deploy form, per block:
//
//	(ReLU (Conv3x3+bias x))                                   names rbr_reparam, relu
//
// With UseSE, squeeze-and-excitation sits between the sum (or rbr_reparam) and the ReLU:
// se.gap, se.down (1x1 conv C→C/16 with bias), se.relu, se.up (1x1 conv C/16→C with bias),
// se.sigmoid, se.mul. The head is gap, flatten, linear.
func (s *Spec) Build(opts Options) (*ir.Graph, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := opts.check(s.name()); err != nil {
		return nil, err
	}
	o := opts.resolved(s.InputH, s.InputW, s.NumClasses)
	if err := checkOptions(s.name(), o); err != nil {
		return nil, err
	}
	b := ir.NewBuilder(s.name(), ir.Shape{C: 3, H: o.InputH, W: o.InputW})
	x := b.Input()
	for _, blk := range s.blocks() {
		x = repvggBlock(b, blk, x, s.UseSE, o.Deploy)
	}
	x = b.GlobalAvgPool("gap", x)
	x = b.Flatten("flatten", x)
	return b.Finish(b.Linear("linear", x, o.NumClasses))
}

// BuildDeploy is Build with opts.Deploy set.
func (s *Spec) BuildDeploy(opts Options) (*ir.Graph, error) {
	opts.Deploy = true
	return s.Build(opts)
}

// repvggBlock adds one RepVGG block (see Spec.Build) and returns its output.
func repvggBlock(b *ir.Builder, c blockCfg, x *ir.Value, se, deploy bool) *ir.Value {
	n := c.name
	var y *ir.Value
	if deploy {
		y = b.Conv(n+".rbr_reparam", x, c.out, 3, c.stride, 1, c.groups, true)
	} else {
		d := b.BatchNorm(n+".rbr_dense.bn", b.Conv(n+".rbr_dense.conv", x, c.out, 3, c.stride, 1, c.groups, false), bnEps)
		o := b.BatchNorm(n+".rbr_1x1.bn", b.Conv(n+".rbr_1x1.conv", x, c.out, 1, c.stride, 0, c.groups, false), bnEps)
		sum := []*ir.Value{d, o}
		if c.in == c.out && c.stride == 1 {
			sum = append(sum, b.BatchNorm(n+".rbr_identity", x, bnEps))
		}
		// Operand order is the reference's: (dense + 1x1) + identity.
		y = b.Add(n+".add", sum...)
	}
	if se {
		y = seBlock(b, n+".se", y)
	}
	return b.ReLU(n+".relu", y)
}

// seBlock adds the reference SEBlock(C, C/16): x · sigmoid(up(relu(down(avgpool(x))))).
// The reference pools with avg_pool2d(kernel_size=W), which is the global average for the
// square maps it is used on; GlobalAvgPool is the same there and also defined otherwise.
func seBlock(b *ir.Builder, n string, x *ir.Value) *ir.Value {
	c := x.Shape.C
	p := b.GlobalAvgPool(n+".gap", x)
	d := b.ReLU(n+".relu", b.Conv(n+".down", p, c/16, 1, 1, 0, 1, true))
	s := b.Sigmoid(n+".sigmoid", b.Conv(n+".up", d, c, 1, 1, 0, 1, true))
	return b.Mul(n+".mul", x, s)
}

// bnEps is PyTorch's BatchNorm2d default epsilon, used by every model of the zoo.
const bnEps = 1e-5
