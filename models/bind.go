package models

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/tensor"
)

// BindOptions adjusts Bind.
type BindOptions struct {
	// Source names the checkpoint (a file name) in error messages.
	Source string
	// NonStrict ignores missing and unexpected keys, like PyTorch's
	// load_state_dict(strict=False); mis-shaped tensors are still errors. Nodes whose
	// parameters are incomplete are left without parameters.
	NonStrict bool
}

// MismatchError reports every way a state dict fails to match a graph.
type MismatchError struct {
	Source     string   // checkpoint name, may be empty
	Model      string   // graph name
	Missing    []string // keys the model needs that the checkpoint lacks, in model order
	Unexpected []string // checkpoint keys the model has no use for, in checkpoint order
	Misshaped  []string // "key: [48 3 3 3] in file, model wants [64 3 3 3]", in model order
	Hint       string   // a likely cause, or ""
}

// maxListed caps each list of names in MismatchError's message.
const maxListed = 5

func listNames(kind string, names []string) string {
	shown := make([]string, 0, maxListed)
	for _, n := range names[:min(len(names), maxListed)] {
		shown = append(shown, quoteUntrusted(n))
	}
	s := fmt.Sprintf("%d %s (%s", len(names), kind, strings.Join(shown, ", "))
	if len(names) > len(shown) {
		s += fmt.Sprintf(", … %d more", len(names)-len(shown))
	}
	return s + ")"
}

// quoteUntrusted returns a name read from a file as it is if it is short printable text,
// and otherwise Go-quoted and cut to 80 bytes, so that it cannot break or color a message.
func quoteUntrusted(name string) string {
	ok := len(name) <= 80
	for _, r := range name {
		if !unicode.IsPrint(r) {
			ok = false
			break
		}
	}
	if ok {
		return name
	}
	if len(name) > 80 {
		name = name[:80] + "…"
	}
	return strconv.Quote(name)
}

// Error lists the problems in one line, each list capped at five names.
func (e *MismatchError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, listNames("missing", e.Missing))
	}
	if len(e.Unexpected) > 0 {
		parts = append(parts, listNames("unexpected", e.Unexpected))
	}
	if len(e.Misshaped) > 0 {
		parts = append(parts, listNames("mis-shaped", e.Misshaped))
	}
	src := "checkpoint"
	if e.Source != "" {
		src = "checkpoint " + e.Source
	}
	msg := fmt.Sprintf("%s does not match %s: %s", src, e.Model, strings.Join(parts, ", "))
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// Bind sets the parameters of every node of g from a state dict given as its keys in file
// order (nil: the map's keys, sorted) and its tensors by key (checkpoint.StateDict's Keys
// and Tensors), strictly: every
// missing, unexpected or mis-shaped key is reported in one *MismatchError and g is left
// unchanged. A "module." prefix on every key (DataParallel) is removed. BatchNorm's
// num_batches_tracked is optional and accepted as a 0-d or one-element tensor of any dtype
// (stored as int64, 0-d). Keys in timm's RepVGG naming (IsTimm) are read under the
// reference names they stand for (ReferenceKey). Tensors are shared with the caller, not
// copied.
func Bind(g *ir.Graph, keys []string, tensors map[string]*tensor.Tensor) error {
	return BindWith(g, keys, tensors, BindOptions{})
}

// BindWith is Bind with options.
func BindWith(g *ir.Graph, keys []string, tensors map[string]*tensor.Tensor, opts BindOptions) error {
	if keys == nil {
		keys = slices.Sorted(maps.Keys(tensors))
	}
	if IsTimm(keys) { // timm's RepVGG names: bind under the reference names they stand for
		var err error
		if keys, tensors, err = Rename(keys, tensors, ReferenceKey); err != nil {
			return fmt.Errorf("checkpoint %s: %w", opts.Source, err)
		}
	}
	prefix := ""
	if len(keys) > 0 {
		prefix = "module."
		for _, k := range keys {
			if !strings.HasPrefix(k, prefix) {
				prefix = ""
				break
			}
		}
	}
	present := make(map[string]bool, len(keys))
	for _, k := range keys {
		present[k] = true
	}
	e := &MismatchError{Source: opts.Source, Model: g.Name}
	used := make(map[string]bool, len(keys))
	staged := make(map[*ir.Node]map[string]*tensor.Tensor)
	var lastLinear *ir.Node
	for _, n := range paramNodes(g) {
		if n.Op == ir.Linear {
			lastLinear = n
		}
		ps := map[string]*tensor.Tensor{}
		complete := true
		for _, s := range n.ParamSpecs() {
			key := n.Key(s.Name)
			t, ok := tensors[prefix+key]
			ok = ok && present[prefix+key]
			if ok {
				used[prefix+key] = true
			}
			if !ok || t == nil {
				if !s.Optional {
					e.Missing = append(e.Missing, key)
					complete = false
				}
				continue
			}
			if s.Optional && s.DType == tensor.Int64 {
				if t.DType == tensor.Int64 && len(t.Shape) == 0 && len(t.I64) == 1 {
					ps[s.Name] = t
					continue
				}
				v, ok := counterValue(t)
				if !ok {
					e.Misshaped = append(e.Misshaped, fmt.Sprintf("%s: %s in file, model wants a scalar", key, shapeText(t.Shape)))
					continue
				}
				ps[s.Name] = tensor.FromI64([]int64{v})
				continue
			}
			switch {
			case !tensor.SameShape(t.Shape, s.Shape):
				e.Misshaped = append(e.Misshaped, fmt.Sprintf("%s: %s in file, model wants %s", key, shapeText(t.Shape), shapeText(s.Shape)))
			case t.DType != s.DType:
				e.Misshaped = append(e.Misshaped, fmt.Sprintf("%s: %s in file, model wants %s", key, t.DType, s.DType))
			case t.DType == tensor.Float32 && len(t.F32) != t.Len(), t.DType == tensor.Int64 && len(t.I64) != t.Len():
				e.Misshaped = append(e.Misshaped, fmt.Sprintf("%s: holds the wrong number of elements for %s", key, shapeText(t.Shape)))
			default:
				ps[s.Name] = t
			}
		}
		if complete {
			staged[n] = ps
		}
	}
	for _, k := range keys {
		if !used[k] {
			e.Unexpected = append(e.Unexpected, strings.TrimPrefix(k, prefix))
		}
	}
	if len(e.Misshaped) > 0 || (!opts.NonStrict && (len(e.Missing) > 0 || len(e.Unexpected) > 0)) {
		e.Hint = mismatchHint(g, e, tensors, prefix, lastLinear)
		return e
	}
	for _, n := range g.Nodes {
		if len(n.ParamSpecs()) > 0 {
			n.Params = staged[n] // nil for incomplete nodes in non-strict mode
		}
	}
	return nil
}

// counterValue reads num_batches_tracked from a 0-d or one-element tensor.
func counterValue(t *tensor.Tensor) (int64, bool) {
	if t.Len() != 1 || (len(t.Shape) > 1) {
		return 0, false
	}
	switch {
	case t.DType == tensor.Int64 && len(t.I64) == 1:
		return t.I64[0], true
	case t.DType == tensor.Float32 && len(t.F32) == 1:
		return int64(t.F32[0]), true
	}
	return 0, false
}

// shapeText formats a shape as PyTorch prints torch.Size contents: "[48 3 3 3]", "[]".
func shapeText(s []int) string {
	return strings.ReplaceAll(fmt.Sprint(s), ",", "")
}

// mismatchHint guesses the cause of a mismatch: a checkpoint of the other form, or a
// classifier with another number of classes.
func mismatchHint(g *ir.Graph, e *MismatchError, tensors map[string]*tensor.Tensor, prefix string, lastLinear *ir.Node) string {
	graphBN, fileBN, fileReparam := false, false, false
	for _, n := range g.Nodes {
		graphBN = graphBN || n.Op == ir.BatchNorm
	}
	for k := range tensors {
		fileBN = fileBN || strings.HasSuffix(k, ".running_var")
		fileReparam = fileReparam || strings.Contains(k, "rbr_reparam.")
	}
	unexpectedBias := false
	for _, k := range e.Unexpected {
		unexpectedBias = unexpectedBias || strings.HasSuffix(k, ".bias")
	}
	switch {
	case len(e.Unexpected) > 0 && len(e.Missing) == countParams(g):
		return "no key in common; is this a checkpoint of another model?"
	case graphBN && !fileBN && unexpectedBias:
		return "this looks like a deploy checkpoint (no BatchNorm statistics); use --form deploy"
	case !graphBN && fileBN && len(e.Missing) > 0:
		return "this looks like a train-form checkpoint (it has BatchNorm statistics); use --form train"
	case fileReparam && len(e.Missing) > 0:
		return "this looks like a deploy checkpoint (rbr_reparam keys); use --form deploy"
	}
	if lastLinear != nil && len(e.Misshaped) > 0 && len(e.Missing) == 0 && len(e.Unexpected) == 0 {
		w := tensors[prefix+lastLinear.Key("weight")]
		onlyHead := true
		for _, m := range e.Misshaped {
			onlyHead = onlyHead && strings.HasPrefix(m, lastLinear.Name+".")
		}
		if onlyHead && w != nil && len(w.Shape) == 2 && w.Shape[1] == lastLinear.In[0].Shape.C {
			return fmt.Sprintf("the checkpoint's classifier has %d classes, the model %d; set the number of classes to match", w.Shape[0], lastLinear.Out.Shape.C)
		}
	}
	return ""
}

func countParams(g *ir.Graph) int {
	n := 0
	for _, nd := range g.Nodes {
		for _, s := range nd.ParamSpecs() {
			if !s.Optional {
				n++
			}
		}
	}
	return n
}

// moduleRank orders the submodules of a RepVGG block as the reference registers them (and
// state_dict lists them): se, then rbr_identity, then rbr_dense and rbr_1x1 (or
// rbr_reparam). Every other node keeps graph order.
func moduleRank(name string) (block string, rank int) {
	for _, m := range []struct {
		sep  string
		rank int
	}{{".se.", 0}, {".rbr_identity", 1}, {".rbr_", 2}} {
		if i := strings.Index(name, m.sep); i > 0 {
			return name[:i], m.rank
		}
	}
	return name, 2
}

// paramNodes returns the nodes of g that have parameters, in the reference state_dict
// order: graph order, except that within one RepVGG block (nodes sharing the prefix before
// ".se." or ".rbr_") the SE convs come first and the identity BN before the branches.
func paramNodes(g *ir.Graph) []*ir.Node {
	var ns []*ir.Node
	for _, n := range g.Nodes {
		if len(n.ParamSpecs()) > 0 {
			ns = append(ns, n)
		}
	}
	for i := 0; i < len(ns); {
		block, _ := moduleRank(ns[i].Name)
		j := i + 1
		for j < len(ns) {
			if b, _ := moduleRank(ns[j].Name); b != block {
				break
			}
			j++
		}
		run := ns[i:j]
		sort.SliceStable(run, func(a, b int) bool {
			_, ra := moduleRank(run[a].Name)
			_, rb := moduleRank(run[b].Name)
			return ra < rb
		})
		i = j
	}
	return ns
}

// Keys returns every state_dict key g's parameters use, in the reference order (see
// Unbind), including the optional num_batches_tracked.
func Keys(g *ir.Graph) []string {
	var keys []string
	for _, n := range paramNodes(g) {
		for _, s := range n.ParamSpecs() {
			keys = append(keys, n.Key(s.Name))
		}
	}
	return keys
}

// Unbind returns g's parameters as a state dict: keys in the order the reference model's
// state_dict() lists them (module registration order; for RepVGG blocks se, rbr_identity,
// rbr_dense, rbr_1x1) and tensors by key, shared with g. Parameters a node lacks are
// skipped, so a graph without parameters gives an empty state dict.
func Unbind(g *ir.Graph) ([]string, map[string]*tensor.Tensor) {
	var keys []string
	tensors := map[string]*tensor.Tensor{}
	for _, n := range paramNodes(g) {
		for _, s := range n.ParamSpecs() {
			if t, ok := n.Params[s.Name]; ok && t != nil {
				k := n.Key(s.Name)
				keys = append(keys, k)
				tensors[k] = t
			}
		}
	}
	return keys, tensors
}
