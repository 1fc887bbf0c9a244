package onnx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vggsim/vggsim/ir"
)

// Limits bounds what the reader accepts, so that a hostile or corrupt file costs at most
// about its own size in memory. A zero field takes its DefaultLimits value.
type Limits struct {
	MaxFileBytes   int64 // the .onnx file itself
	MaxNodes       int   // nodes plus initializers
	MaxTensorElems int64 // elements of any one tensor
	MaxTotalElems  int64 // elements of all tensors together
}

// DefaultLimits are generous for image classifiers: 2 GiB files (protobuf's own limit),
// a million nodes, 2^30 elements per tensor and 2^31 in all (8 GiB of float32).
func DefaultLimits() Limits {
	return Limits{MaxFileBytes: 2 << 30, MaxNodes: 1 << 20, MaxTensorElems: 1 << 30, MaxTotalElems: 1 << 31}
}

func (l Limits) resolved() Limits {
	d := DefaultLimits()
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = d.MaxFileBytes
	}
	if l.MaxNodes <= 0 {
		l.MaxNodes = d.MaxNodes
	}
	if l.MaxTensorElems <= 0 {
		l.MaxTensorElems = d.MaxTensorElems
	}
	if l.MaxTotalElems <= 0 {
		l.MaxTotalElems = d.MaxTotalElems
	}
	return l
}

// Options controls Read and Load.
type Options struct {
	Limits Limits
	// Dir is the directory external tensor data may be read from (Load sets it to the
	// model's directory). Locations must be relative and stay inside Dir, symbolic links
	// included. Empty: external data is refused.
	Dir string
	// Structure builds the graph without parameters: tensor data is neither read nor
	// checked (dims still are), so a model whose external weights are absent still loads.
	Structure bool
}

// IsPath reports whether arg names an ONNX file (by its .onnx extension), as the CLI's
// MODEL argument.
func IsPath(arg string) bool { return strings.EqualFold(filepath.Ext(arg), ".onnx") }

// Load reads the ONNX model at path and imports it (see Import). External data may come
// from path's directory only. Errors start with path.
func Load(path string, opts Options) (*ir.Graph, error) {
	if opts.Dir == "" {
		opts.Dir = filepath.Dir(path)
	}
	lim := opts.Limits.resolved()
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, lim.MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(b)) > lim.MaxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, lim.MaxFileBytes)
	}
	g, err := Read(b, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if g.Name == "" || g.Name == "torch_jit" || g.Name == "main_graph" {
		g.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	return g, nil
}

// Read decodes a serialized ModelProto and imports it into an ir graph with parameters
// (see the package doc for the operators and patterns accepted).
func Read(b []byte, opts Options) (*ir.Graph, error) {
	opts.Limits = opts.Limits.resolved()
	if int64(len(b)) > opts.Limits.MaxFileBytes {
		return nil, fmt.Errorf("larger than %d bytes", opts.Limits.MaxFileBytes)
	}
	d := &decoder{lim: opts.Limits}
	m, err := d.model(b)
	if err != nil {
		return nil, fmt.Errorf("not a valid ONNX model: %w", err)
	}
	return Import(m, opts)
}

// UnsupportedError is a node the importer cannot express in the IR.
type UnsupportedError struct {
	Node   string // the node's name (or "#index" when it has none)
	OpType string // its op_type, with the domain when not the default one
	Opset  int64  // the model's default-domain opset
	Reason string // what is not supported
}

// Error names the node, its op type and the opset.
func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("node %s (%s, opset %d): %s", e.Node, e.OpType, e.Opset, e.Reason)
}

// Opset range the importer supports.
const (
	MinOpset = 11
	MaxOpset = 21
)

// act is an activation: an ir value and its ONNX rank (4 for NCHW, 2 for N×C).
type act struct {
	v    *ir.Value
	rank int
}

// konst is a constant known at import time: an initializer, a Constant node, or a shape
// computation folded from them. Batch dimensions of shapes are 0 (Reshape's "copy").
type konst struct {
	t     *Tensor
	dims  []int64
	ints  []int64 // for int32/int64 constants
	isInt bool
}

type importer struct {
	opts   Options
	opset  int64
	b      *ir.Builder
	acts   map[string]act
	consts map[string]*konst
	uses   map[string]int
	names  map[string]bool
	node   *Node
	index  int
	batch  int64 // the input's batch dimension when the file fixes it, else -1

	containers map[string]bool // PyTorch module paths that contain other modules
}

// Import builds an ir graph from a decoded model. Every node must be in the default domain
// at opset 11 to 21 and be one of the supported operators; the first one that is not gives
// an *UnsupportedError.
func Import(m *Model, opts Options) (*ir.Graph, error) {
	im := &importer{opts: opts, acts: map[string]act{}, consts: map[string]*konst{}, uses: map[string]int{}, names: map[string]bool{"input": true}}
	im.opset = -1
	for _, o := range m.Opsets {
		if o.Domain == "" || o.Domain == "ai.onnx" {
			im.opset = o.Version
		}
	}
	if im.opset < MinOpset || im.opset > MaxOpset {
		if im.opset < 0 {
			return nil, fmt.Errorf("no opset import for the default domain")
		}
		return nil, fmt.Errorf("opset %d is not supported (%d to %d are)", im.opset, MinOpset, MaxOpset)
	}
	g := m.Graph
	for _, t := range g.Initializers {
		im.consts[t.Name] = &konst{t: t, dims: t.Dims}
	}
	var input *ValueInfo
	for _, vi := range g.Inputs {
		if _, ok := im.consts[vi.Name]; ok {
			continue
		}
		if input != nil {
			return nil, fmt.Errorf("graph inputs %q and %q: only single-input models are supported", input.Name, vi.Name)
		}
		input = vi
	}
	if input == nil {
		return nil, fmt.Errorf("graph has no input")
	}
	if len(input.Dims) != 4 || input.Dims[1] <= 0 || input.Dims[2] <= 0 || input.Dims[3] <= 0 || input.ElemType != dtFloat {
		return nil, fmt.Errorf("graph input %q: want a float tensor [N, C, H, W] with C, H, W known, got %s %v", input.Name, elemName(input.ElemType), input.Dims)
	}
	const maxDim = 1 << 20
	if input.Dims[1] > maxDim || input.Dims[2] > maxDim || input.Dims[3] > maxDim || input.Dims[1]*input.Dims[2]*input.Dims[3] > opts.Limits.resolved().MaxTensorElems {
		return nil, fmt.Errorf("graph input %q: shape %v too large", input.Name, input.Dims)
	}
	if len(g.Outputs) != 1 {
		return nil, fmt.Errorf("graph has %d outputs; only single-output models are supported", len(g.Outputs))
	}
	nodes := rewrite(g.Nodes, im.consts)
	im.containers = containerPaths(nodes)
	for _, n := range nodes {
		for _, in := range n.Inputs {
			im.uses[in]++
		}
	}
	im.uses[g.Outputs[0].Name]++
	im.batch = input.Dims[0]
	im.b = ir.NewBuilder(g.Name, ir.Shape{C: int(input.Dims[1]), H: int(input.Dims[2]), W: int(input.Dims[3])})
	im.acts[input.Name] = act{im.b.Input(), 4}
	for i, n := range nodes {
		im.node, im.index = n, i
		if err := im.convert(n); err != nil {
			return nil, err
		}
		if err := im.b.Err(); err != nil {
			return nil, im.unsupported("%v", err)
		}
	}
	out, ok := im.acts[g.Outputs[0].Name]
	if !ok {
		return nil, fmt.Errorf("graph output %q is not computed from the input", g.Outputs[0].Name)
	}
	return im.b.Finish(out.v)
}

func elemName(t int32) string {
	switch t {
	case dtFloat:
		return "float"
	case dtInt64:
		return "int64"
	case dtInt32:
		return "int32"
	}
	return "type " + strconv.Itoa(int(t))
}

func (im *importer) nodeName() string {
	if im.node.Name != "" {
		return strconv.Quote(im.node.Name)
	}
	return "#" + strconv.Itoa(im.index)
}

func (im *importer) unsupported(format string, args ...any) error {
	op := im.node.OpType
	if im.node.Domain != "" && im.node.Domain != "ai.onnx" {
		op = im.node.Domain + "." + op
	}
	return &UnsupportedError{Node: im.nodeName(), OpType: op, Opset: im.opset, Reason: fmt.Sprintf(format, args...)}
}

// rewrite normalizes the node list before conversion: MatMul by a constant followed by the
// Add of a constant becomes one Gemm, and Add(Add(a, b), c) whose inner sum has no other
// use becomes Sum(a, b, c) (the IR's n-ary Add sums left to right, so this is exact).
func rewrite(nodes []*Node, consts map[string]*konst) []*Node {
	uses := map[string]int{}
	producer := map[string]*Node{}
	for _, n := range nodes {
		for _, in := range n.Inputs {
			uses[in]++
		}
		for _, o := range n.Outputs {
			producer[o] = n
		}
	}
	isDefault := func(n *Node) bool { return n.Domain == "" || n.Domain == "ai.onnx" }
	dead := map[*Node]bool{}
	out := make([]*Node, 0, len(nodes))
	for _, n := range nodes {
		if !isDefault(n) || len(n.Outputs) != 1 {
			out = append(out, n)
			continue
		}
		switch {
		case n.OpType == "MatMul" && len(n.Inputs) == 2 && consts[n.Inputs[1]] != nil:
			out = append(out, &Node{Name: n.Name, OpType: "Gemm", Inputs: n.Inputs[:2:2], Outputs: n.Outputs})
			continue
		case n.OpType == "Add" && len(n.Inputs) == 2:
			a, c := n.Inputs[0], n.Inputs[1]
			if consts[a] != nil {
				a, c = c, a
			}
			if p := producer[a]; p != nil && consts[c] != nil && p.OpType == "MatMul" && isDefault(p) && uses[a] == 1 && len(p.Inputs) == 2 && consts[p.Inputs[1]] != nil {
				// The Gemm made from p above takes the bias and n's output.
				for i := len(out) - 1; i >= 0; i-- {
					if len(out[i].Outputs) == 1 && out[i].Outputs[0] == a && out[i].OpType == "Gemm" {
						out[i] = &Node{Name: p.Name, OpType: "Gemm", Inputs: []string{p.Inputs[0], p.Inputs[1], c}, Outputs: n.Outputs}
						break
					}
				}
				continue
			}
			if p := producer[n.Inputs[0]]; p != nil && isDefault(p) && (p.OpType == "Add" || p.OpType == "Sum") && uses[n.Inputs[0]] == 1 && !dead[p] && consts[n.Inputs[1]] == nil {
				inner := -1
				for i := len(out) - 1; i >= 0; i-- {
					if len(out[i].Outputs) == 1 && out[i].Outputs[0] == n.Inputs[0] && (out[i].OpType == "Add" || out[i].OpType == "Sum") {
						inner = i
						break
					}
				}
				if inner >= 0 && allActs(out[inner].Inputs, consts) {
					merged := &Node{Name: n.Name, OpType: "Sum", Inputs: append(append([]string(nil), out[inner].Inputs...), n.Inputs[1]), Outputs: n.Outputs}
					out = append(out[:inner], out[inner+1:]...)
					out = append(out, merged)
					continue
				}
			}
		}
		out = append(out, n)
	}
	return out
}

func allActs(names []string, consts map[string]*konst) bool {
	for _, s := range names {
		if consts[s] != nil {
			return false
		}
	}
	return true
}

func (n *Node) attr(name string) *Attr {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a
		}
	}
	return nil
}

func (n *Node) attrInt(name string, def int64) int64 {
	if a := n.attr(name); a != nil {
		return a.I
	}
	return def
}

func (n *Node) attrInts(name string) []int64 {
	if a := n.attr(name); a != nil {
		return a.Ints
	}
	return nil
}

// in returns the activation named by input i.
func (im *importer) in(i int) (act, error) {
	if i >= len(im.node.Inputs) || im.node.Inputs[i] == "" {
		return act{}, im.unsupported("input %d is missing", i)
	}
	a, ok := im.acts[im.node.Inputs[i]]
	if !ok {
		if im.consts[im.node.Inputs[i]] != nil {
			return act{}, im.unsupported("input %d (%s) is a constant; only activations are supported there", i, im.node.Inputs[i])
		}
		return act{}, im.unsupported("input %d (%s) is not defined before the node", i, im.node.Inputs[i])
	}
	return a, nil
}

// konstIn returns the constant named by input i, or nil when the input is absent.
func (im *importer) konstIn(i int) (*konst, error) {
	if i >= len(im.node.Inputs) || im.node.Inputs[i] == "" {
		return nil, nil
	}
	k := im.consts[im.node.Inputs[i]]
	if k == nil {
		return nil, im.unsupported("input %d (%s) must be a constant (an initializer)", i, im.node.Inputs[i])
	}
	return k, nil
}

// operands returns the node's activation input 0 and its constant inputs 1..n, nil where
// an input is absent: the operand fetch of every operator with weights or constant
// arguments (Conv, Gemm, BatchNormalization, Reshape, Pad, Clip).
func (im *importer) operands(n int) (act, []*konst, error) {
	x, err := im.in(0)
	if err != nil {
		return act{}, nil, err
	}
	ks := make([]*konst, n)
	for i := range ks {
		if ks[i], err = im.konstIn(i + 1); err != nil {
			return act{}, nil, err
		}
	}
	return x, ks, nil
}

func (im *importer) setOut(a act) error {
	if len(im.node.Outputs) == 0 || im.node.Outputs[0] == "" {
		return im.unsupported("no output")
	}
	for _, o := range im.node.Outputs[1:] {
		if o != "" && im.uses[o] > 0 {
			return im.unsupported("output %s is used; only the first output is supported", o)
		}
	}
	im.acts[im.node.Outputs[0]] = a
	return nil
}

// name returns a unique ir node name for the current node: the state_dict prefix of its
// weight initializer when it has one ("layer1.0.conv1.weight" → "layer1.0.conv1"), else
// its name, where PyTorch's scope names become dotted module paths
// ("/layer1/layer1.0/relu/Relu" → "layer1.0.relu", "/stage1/stage1.1/Add_1" →
// "stage1.1.add"); "" lets the builder number it.
func (im *importer) name(weight string) string {
	base := ""
	if p, ok := strings.CutSuffix(weight, ".weight"); ok && p != "" {
		base = p
	} else if n := im.node.Name; strings.HasPrefix(n, "/") {
		path, op := scopePath(n)
		switch {
		case path == "":
			base = op
		case functional[im.node.OpType] || im.containers[path]:
			base = path + "." + op // x + y or F.relu in a module's forward: stage1.1.add, stage0.se.relu
		default:
			base = path // a leaf module's own op: layer1.0.relu, avgpool
		}
	} else {
		base = n
	}
	if base == "" {
		return ""
	}
	name := base
	for i := 2; im.names[name]; i++ {
		name = base + "_" + strconv.Itoa(i)
	}
	im.names[name] = true
	return name
}

// scopePath splits a PyTorch node name into the module path and the lowercased op:
// "/layer2/layer2.0/downsample/downsample.0/Conv" → "layer2.0.downsample.0", "conv"
// (each scope is named relative to its parent's parent), "/stage1/stage1.1/Add_1" →
// "stage1.1", "add".
func scopePath(name string) (path, op string) {
	parts := strings.Split(strings.Trim(name, "/"), "/")
	prev := ""
	for _, c := range parts[:len(parts)-1] {
		switch {
		case path == "":
			path = c
		case prev != "" && strings.HasPrefix(c, prev+"."):
			path = strings.TrimSuffix(path, prev) + c
		default:
			path += "." + c
		}
		prev = c
	}
	op = strings.ToLower(parts[len(parts)-1])
	if i := strings.LastIndexByte(op, '_'); i > 0 && isDigits(op[i+1:]) {
		op = op[:i] // Add_1 → add
	}
	return path, op
}

// containerPaths returns the module paths that hold other modules' nodes (the proper
// dot-prefixes of every node's module path).
func containerPaths(nodes []*Node) map[string]bool {
	c := map[string]bool{}
	for _, n := range nodes {
		if !strings.HasPrefix(n.Name, "/") {
			continue
		}
		path, _ := scopePath(n.Name)
		for i := range len(path) {
			if path[i] == '.' {
				c[path[:i]] = true
			}
		}
	}
	return c
}

// functional lists the ops PyTorch emits for tensor arithmetic in a forward method (named
// after the enclosing module), rather than for a module of their own.
var functional = map[string]bool{"Add": true, "Sum": true, "Mul": true, "Reshape": true, "Flatten": true}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func (im *importer) convert(n *Node) error {
	if n.Domain != "" && n.Domain != "ai.onnx" {
		return im.unsupported("operator domain %q is not supported", n.Domain)
	}
	switch n.OpType {
	case "Constant", "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat":
		return im.constOp()
	case "Identity":
		if a, ok := im.acts[inputOr(n, 0)]; ok {
			return im.setOut(a)
		}
		k, err := im.konstIn(0)
		if err != nil || k == nil {
			return cmpErr(err, im.unsupported("input 0 is missing"))
		}
		if len(n.Outputs) != 1 || n.Outputs[0] == "" {
			return im.unsupported("want one output")
		}
		im.consts[n.Outputs[0]] = k
		return nil
	case "Pad": // F.avg_pool2d exports a Pad by zero before its AveragePool
		x, err := im.in(0)
		if err != nil {
			return err
		}
		k, err := im.konstIn(1)
		if err != nil || k == nil {
			return cmpErr(err, im.unsupported("no pads"))
		}
		pads, err := im.ints(k)
		if err != nil {
			return err
		}
		for _, p := range pads {
			if p != 0 {
				return im.unsupported("pads %v: only a pad by zero (the identity) is supported; pad in the Conv or MaxPool", pads)
			}
		}
		return im.setOut(x)
	case "Conv":
		return im.conv()
	case "BatchNormalization":
		return im.batchNorm()
	case "Relu", "Sigmoid":
		x, err := im.in(0)
		if err != nil {
			return err
		}
		if n.OpType == "Relu" {
			return im.setOut(act{im.b.ReLU(im.name(""), x.v), x.rank})
		}
		return im.setOut(act{im.b.Sigmoid(im.name(""), x.v), x.rank})
	case "Clip":
		return im.clip()
	case "Add", "Sum":
		if len(n.Inputs) < 2 {
			if n.OpType == "Sum" && len(n.Inputs) == 1 {
				x, err := im.in(0)
				if err != nil {
					return err
				}
				return im.setOut(x)
			}
			return im.unsupported("needs two operands")
		}
		xs := make([]*ir.Value, len(n.Inputs))
		rank := 0
		for i := range n.Inputs {
			x, err := im.in(i)
			if err != nil {
				return err
			}
			if i > 0 && x.v.Shape != xs[0].Shape {
				return im.unsupported("operand shapes %v and %v differ (broadcasting is not supported)", xs[0].Shape, x.v.Shape)
			}
			xs[i], rank = x.v, max(rank, x.rank)
		}
		return im.setOut(act{im.b.Add(im.name(""), xs...), rank})
	case "Mul":
		x, err := im.in(0)
		if err != nil {
			return err
		}
		s, err := im.in(1)
		if err != nil {
			return err
		}
		if x.v.Shape.H*x.v.Shape.W < s.v.Shape.H*s.v.Shape.W {
			x, s = s, x
		}
		if s.v.Shape != x.v.Shape && s.v.Shape != (ir.Shape{C: x.v.Shape.C, H: 1, W: 1}) {
			return im.unsupported("operand shapes %v and %v: only equal shapes or a per-channel scale are supported", x.v.Shape, s.v.Shape)
		}
		return im.setOut(act{im.b.Mul(im.name(""), x.v, s.v), x.rank})
	case "MaxPool":
		return im.maxPool()
	case "GlobalAveragePool":
		x, err := im.in(0)
		if err != nil {
			return err
		}
		if x.rank != 4 {
			return im.unsupported("input is not 4-D")
		}
		return im.setOut(act{im.b.GlobalAvgPool(im.name(""), x.v), 4})
	case "AveragePool":
		return im.avgPool()
	case "Flatten":
		x, err := im.in(0)
		if err != nil {
			return err
		}
		if ax := n.attrInt("axis", 1); ax != 1 {
			return im.unsupported("axis %d: only axis 1 (N × C·H·W) is supported", ax)
		}
		if x.rank == 2 {
			return im.setOut(x)
		}
		return im.setOut(act{im.b.Flatten(im.name(""), x.v), 2})
	case "Reshape":
		return im.reshape()
	case "Gemm":
		return im.gemm()
	}
	return im.unsupported("operator %s is not supported", n.OpType)
}

func cmpErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func inputOr(n *Node, i int) string {
	if i < len(n.Inputs) {
		return n.Inputs[i]
	}
	return ""
}

// pads2 checks window attributes and returns the square kernel, stride and symmetric pad.
func (im *importer) window(kernel []int64) (k, stride, pad int, err error) {
	n := im.node
	if ap := n.attr("auto_pad"); ap != nil && string(ap.S) != "NOTSET" && string(ap.S) != "" && string(ap.S) != "VALID" {
		return 0, 0, 0, im.unsupported("auto_pad %s is not supported; export with explicit pads", ap.S)
	}
	if len(kernel) != 2 || kernel[0] != kernel[1] || kernel[0] <= 0 || kernel[0] > 1<<16 {
		return 0, 0, 0, im.unsupported("kernel %v: only square 2-D kernels are supported", kernel)
	}
	for _, d := range n.attrInts("dilations") {
		if d != 1 {
			return 0, 0, 0, im.unsupported("dilations %v: only 1 is supported", n.attrInts("dilations"))
		}
	}
	stride = 1
	if s := n.attrInts("strides"); s != nil {
		if len(s) != 2 || s[0] != s[1] || s[0] <= 0 || s[0] > 1<<16 {
			return 0, 0, 0, im.unsupported("strides %v: only equal strides are supported", s)
		}
		stride = int(s[0])
	}
	if p := n.attrInts("pads"); p != nil {
		if len(p) != 4 || p[0] != p[1] || p[0] != p[2] || p[0] != p[3] || p[0] < 0 || p[0] > 1<<16 {
			return 0, 0, 0, im.unsupported("pads %v: only equal padding on all sides is supported", p)
		}
		pad = int(p[0])
	}
	return int(kernel[0]), stride, pad, nil
}

func (im *importer) conv() error {
	n := im.node
	x, ks, err := im.operands(2)
	if err != nil {
		return err
	}
	w, bias := ks[0], ks[1]
	if w == nil {
		return im.unsupported("no weight")
	}
	if len(w.dims) != 4 || x.rank != 4 {
		return im.unsupported("only 2-D convolutions of 4-D inputs are supported (weight %v)", w.dims)
	}
	kernel := n.attrInts("kernel_shape")
	if kernel == nil {
		kernel = w.dims[2:]
	}
	if len(kernel) != 2 || kernel[0] != w.dims[2] || kernel[1] != w.dims[3] {
		return im.unsupported("kernel_shape %v does not match weight %v", kernel, w.dims)
	}
	k, stride, pad, err := im.window(kernel)
	if err != nil {
		return err
	}
	groups := n.attrInt("group", 1)
	if groups <= 0 || groups > int64(x.v.Shape.C) || w.dims[0] <= 0 || w.dims[0] > 1<<24 || w.dims[1]*groups != int64(x.v.Shape.C) {
		return im.unsupported("weight %v with group %d does not fit %d input channels", w.dims, groups, x.v.Shape.C)
	}
	if bias != nil && (len(bias.dims) != 1 || bias.dims[0] != w.dims[0]) {
		return im.unsupported("bias %v does not match weight %v", bias.dims, w.dims)
	}
	name := im.name(inputOr(n, 1))
	v := im.b.Conv(name, x.v, int(w.dims[0]), k, stride, pad, int(groups), bias != nil)
	params := map[string]*Tensor{"weight": w.t}
	if bias != nil {
		params["bias"] = bias.t
	}
	if err := im.bind(v, params); err != nil {
		return err
	}
	return im.setOut(act{v, 4})
}

func (im *importer) batchNorm() error {
	n := im.node
	x, err := im.in(0)
	if err != nil {
		return err
	}
	if n.attrInt("training_mode", 0) != 0 {
		return im.unsupported("training_mode 1 is not supported; export in eval mode")
	}
	params := map[string]*Tensor{}
	for i, p := range []string{"weight", "bias", "running_mean", "running_var"} {
		k, err := im.konstIn(i + 1)
		if err != nil {
			return err
		}
		if k == nil || len(k.dims) != 1 || k.dims[0] != int64(x.v.Shape.C) {
			return im.unsupported("%s must be a constant of %d elements", p, x.v.Shape.C)
		}
		params[p] = k.t
	}
	eps := 1e-5
	if a := n.attr("epsilon"); a != nil {
		// The shortest decimal of the float32 epsilon: 1e-05 stays 1e-05.
		eps, _ = strconv.ParseFloat(strconv.FormatFloat(float64(a.F), 'g', -1, 32), 64)
	}
	if !(eps > 0) || math.IsInf(eps, 0) {
		return im.unsupported("epsilon %v must be positive", eps)
	}
	v := im.b.BatchNorm(im.name(inputOr(n, 1)), x.v, eps)
	if err := im.bind(v, params); err != nil {
		return err
	}
	return im.setOut(act{v, x.rank})
}

func (im *importer) maxPool() error {
	n := im.node
	x, err := im.in(0)
	if err != nil {
		return err
	}
	if x.rank != 4 {
		return im.unsupported("input is not 4-D")
	}
	k, stride, pad, err := im.window(n.attrInts("kernel_shape"))
	if err != nil {
		return err
	}
	if n.attrInt("ceil_mode", 0) != 0 {
		for _, in := range []int{x.v.Shape.H, x.v.Shape.W} {
			if (in+2*pad-k)%stride != 0 {
				return im.unsupported("ceil_mode 1 changes the output size here; only floor mode is supported")
			}
		}
	}
	return im.setOut(act{im.b.MaxPool(im.name(""), x.v, k, stride, pad), 4})
}

func (im *importer) avgPool() error {
	n := im.node
	x, err := im.in(0)
	if err != nil {
		return err
	}
	kernel := n.attrInts("kernel_shape")
	if x.rank != 4 || len(kernel) != 2 {
		return im.unsupported("only 2-D pooling of 4-D inputs is supported")
	}
	for _, p := range n.attrInts("pads") {
		if p != 0 {
			return im.unsupported("pads %v: only unpadded average pooling is supported", n.attrInts("pads"))
		}
	}
	if ap := n.attr("auto_pad"); ap != nil && string(ap.S) != "NOTSET" && string(ap.S) != "" && string(ap.S) != "VALID" {
		return im.unsupported("auto_pad %s is not supported", ap.S)
	}
	s := x.v.Shape
	strides := n.attrInts("strides")
	if strides == nil {
		strides = []int64{1, 1}
	}
	if kernel[0] == 1 && kernel[1] == 1 && len(strides) == 2 && strides[0] == 1 && strides[1] == 1 {
		return im.setOut(x) // a 1×1 window: the identity (PyTorch's adaptive pooling to the input size)
	}
	if kernel[0] == int64(s.H) && kernel[1] == int64(s.W) {
		return im.setOut(act{im.b.GlobalAvgPool(im.name(""), x.v), 4})
	}
	if len(strides) == 2 && strides[0] == kernel[0] && strides[1] == kernel[1] && kernel[0] > 0 && kernel[1] > 0 &&
		int64(s.H)%kernel[0] == 0 && int64(s.W)%kernel[1] == 0 {
		// Non-overlapping windows that tile the input: PyTorch's adaptive pooling to H/k.
		return im.setOut(act{im.b.AdaptiveAvgPool(im.name(""), x.v, s.H/int(kernel[0]), s.W/int(kernel[1])), 4})
	}
	return im.unsupported("kernel %v strides %v on %dx%d: only global pooling or windows that tile the input are supported", kernel, strides, s.H, s.W)
}

func (im *importer) reshape() error {
	x, ks, err := im.operands(1)
	if err != nil {
		return err
	}
	k := ks[0]
	if k == nil {
		return im.unsupported("no shape")
	}
	target, err := im.ints(k)
	if err != nil {
		return err
	}
	s := x.v.Shape
	per := int64(s.Elems())
	in := []int64{0, int64(s.C), int64(s.H), int64(s.W)}
	if x.rank == 2 {
		in = []int64{0, per}
	}
	// Resolve 0 (copy) and -1 (infer) against a batch of 1; a model exported with a fixed
	// batch names it.
	dims := make([]int64, len(target))
	infer, prod := -1, int64(1)
	for i, d := range target {
		switch {
		case i == 0 && d > 1 && d == im.batch:
			dims[i] = 1
		case d == 0 && i < len(in):
			dims[i] = max(in[i], 1)
		case d == -1 && infer < 0:
			infer = i
			continue
		case d > 0 && d <= 1<<40:
			dims[i] = d
		default:
			return im.unsupported("shape %v is not supported", target)
		}
		prod *= dims[i]
	}
	if infer >= 0 {
		if prod == 0 || per%prod != 0 {
			return im.unsupported("shape %v does not fit %v", target, s)
		}
		dims[infer] = per / prod
		prod *= dims[infer]
	}
	if len(dims) < 2 || dims[0] != 1 || prod != per {
		return im.unsupported("shape %v: only reshapes that keep the batch dimension are supported", target)
	}
	switch {
	case len(dims) == 2 && x.rank == 2:
		return im.setOut(x)
	case len(dims) == 2:
		return im.setOut(act{im.b.Flatten(im.name(""), x.v), 2})
	case len(dims) == 4 && dims[1] == int64(s.C) && dims[2] == int64(s.H) && dims[3] == int64(s.W):
		return im.setOut(act{x.v, 4}) // no change, or N×C to N×C×1×1
	}
	return im.unsupported("shape %v of %v: only flattening to 2-D is supported", target, s)
}

func (im *importer) gemm() error {
	n := im.node
	x, ks, err := im.operands(2)
	if err != nil {
		return err
	}
	w, c := ks[0], ks[1]
	if w == nil {
		return im.unsupported("no weight")
	}
	if a := n.attr("alpha"); a != nil && a.F != 1 {
		return im.unsupported("alpha %v: only 1 is supported", a.F)
	}
	if a := n.attr("beta"); a != nil && a.F != 1 && c != nil {
		return im.unsupported("beta %v: only 1 is supported", a.F)
	}
	if n.attrInt("transA", 0) != 0 {
		return im.unsupported("transA 1 is not supported")
	}
	if x.v.Shape.H != 1 || x.v.Shape.W != 1 {
		return im.unsupported("input %v is not a vector; flatten it first", x.v.Shape)
	}
	in := int64(x.v.Shape.C)
	transB := n.attrInt("transB", 0) != 0
	if len(w.dims) != 2 || (transB && w.dims[1] != in) || (!transB && w.dims[0] != in) {
		return im.unsupported("weight %v (transB %v) does not fit %d inputs", w.dims, transB, in)
	}
	out := w.dims[0]
	if !transB {
		out = w.dims[1]
	}
	if c != nil && !(len(c.dims) == 1 && c.dims[0] == out) && !(len(c.dims) == 2 && c.dims[0] == 1 && c.dims[1] == out) {
		return im.unsupported("bias %v does not fit %d outputs", c.dims, out)
	}
	v := im.b.Linear(im.name(inputOr(n, 1)), x.v, int(out))
	if im.opts.Structure {
		return im.setOut(act{v, 2})
	}
	wt, err := im.floats(w.t)
	if err != nil {
		return err
	}
	if !transB {
		t := make([]float32, len(wt))
		for i := range in {
			for o := range out {
				t[o*in+i] = wt[i*out+o]
			}
		}
		wt = t
	}
	bias := make([]float32, out)
	if c != nil {
		if bias, err = im.floats(c.t); err != nil {
			return err
		}
	}
	v.Producer.Params = map[string]*tensorT{"weight": newTensor(wt, int(out), int(in)), "bias": newTensor(bias, int(out))}
	return im.setOut(act{v, 2})
}

// bind sets the parameters of v's node from ONNX tensors (not in Structure mode).
func (im *importer) bind(v *ir.Value, params map[string]*Tensor) error {
	if im.opts.Structure {
		return nil
	}
	n := v.Producer
	ps := map[string]*tensorT{}
	for _, spec := range n.ParamSpecs() {
		t := params[spec.Name]
		if t == nil {
			continue
		}
		data, err := im.floats(t)
		if err != nil {
			return err
		}
		if len(data) != numel(spec.Shape) {
			return im.unsupported("%s has %d elements, want %v", spec.Name, len(data), spec.Shape)
		}
		ps[spec.Name] = newTensor(data, spec.Shape...)
	}
	n.Params = ps
	return nil
}

// floats returns the data of a float tensor, reading external data if allowed.
func (im *importer) floats(t *Tensor) ([]float32, error) {
	if t == nil {
		return nil, im.unsupported("missing tensor")
	}
	if t.DataType != dtFloat {
		return nil, im.unsupported("tensor %s is %s; only float32 weights are supported", t.Name, elemName(t.DataType))
	}
	n, err := t.numel(im.opts.Limits.resolved().MaxTensorElems)
	if err != nil {
		return nil, im.unsupported("tensor %s: %v", t.Name, err)
	}
	switch {
	case t.Location == 1 || len(t.External) > 0:
		raw, err := readExternal(im.opts, t, n*4)
		if err != nil {
			return nil, im.unsupported("tensor %s: %v", t.Name, err)
		}
		return leFloats(raw), nil
	case t.Raw != nil:
		if int64(len(t.Raw)) != n*4 {
			return nil, im.unsupported("tensor %s: raw_data has %d bytes, dims %v need %d", t.Name, len(t.Raw), t.Dims, n*4)
		}
		return leFloats(t.Raw), nil
	case int64(len(t.Floats)) == n:
		return t.Floats, nil
	}
	return nil, im.unsupported("tensor %s: %d float_data values, dims %v need %d", t.Name, len(t.Floats), t.Dims, n)
}

func leFloats(b []byte) []float32 {
	f := make([]float32, len(b)/4)
	for i := range f {
		f[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return f
}

// readExternal reads an external tensor's n bytes from opts.Dir, refusing locations that
// leave it.
func readExternal(opts Options, t *Tensor, n int64) ([]byte, error) {
	if opts.Dir == "" {
		return nil, errors.New("external data is not allowed here")
	}
	var loc string
	var off, length int64 = 0, -1
	for _, kv := range t.External {
		var err error
		switch kv[0] {
		case "location":
			loc = kv[1]
		case "offset":
			off, err = strconv.ParseInt(kv[1], 10, 64)
		case "length":
			length, err = strconv.ParseInt(kv[1], 10, 64)
		}
		if err != nil || off < 0 {
			return nil, fmt.Errorf("external_data %s=%q: %v", kv[0], kv[1], cmpErr(err, errors.New("negative")))
		}
	}
	if loc == "" || !filepath.IsLocal(filepath.FromSlash(loc)) {
		return nil, fmt.Errorf("external data location %q must be a relative path inside the model's directory", loc)
	}
	if length >= 0 && length != n {
		return nil, fmt.Errorf("external data length %d, dims need %d bytes", length, n)
	}
	dir, err := filepath.EvalSymlinks(opts.Dir)
	if err != nil {
		return nil, err
	}
	path, err := filepath.EvalSymlinks(filepath.Join(dir, filepath.FromSlash(loc)))
	if err != nil {
		return nil, fmt.Errorf("external data: %w", err)
	}
	if rel, err := filepath.Rel(dir, path); err != nil || !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("external data location %q leaves the model's directory", loc)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || off > fi.Size() || fi.Size()-off < n {
		return nil, fmt.Errorf("external data %s: %d bytes at offset %d do not fit in %d bytes", loc, n, off, fi.Size())
	}
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off); err != nil {
		return nil, err
	}
	return b, nil
}

// clip imports Clip(x, min, max) with constant scalar bounds: (0, 6) is ReLU6 (how PyTorch
// exports nn.ReLU6), (0, none) is ReLU; any other clamp is not an operator of ours.
func (im *importer) clip() error {
	x, err := im.in(0)
	if err != nil {
		return err
	}
	var bound [2]*float32
	for i := range bound {
		k, err := im.konstIn(i + 1)
		if err != nil {
			return err
		}
		if k == nil {
			continue
		}
		v, err := im.floats(k.t)
		if err != nil {
			return err
		}
		if len(v) != 1 {
			return im.unsupported("bound %d has %d values; only scalar bounds are supported", i+1, len(v))
		}
		bound[i] = &v[0]
	}
	switch {
	case bound[0] != nil && *bound[0] == 0 && bound[1] != nil && *bound[1] == 6:
		return im.setOut(act{im.b.ReLU6(im.name(""), x.v), x.rank})
	case bound[0] != nil && *bound[0] == 0 && bound[1] == nil:
		return im.setOut(act{im.b.ReLU(im.name(""), x.v), x.rank})
	}
	show := func(b *float32) string {
		if b == nil {
			return "none"
		}
		return fmt.Sprint(*b)
	}
	return im.unsupported("bounds [%s, %s]: only [0, 6] (ReLU6) and [0, none] (ReLU) are supported", show(bound[0]), show(bound[1]))
}
