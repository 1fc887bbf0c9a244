package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// The subset of onnx.proto (ONNX IR version 7 and later) that vggsim reads and writes.
// Field numbers are onnx.proto's; fields not listed here are skipped on reading.

// Model is an ONNX ModelProto.
type Model struct {
	IRVersion    int64
	Opsets       []OpsetID // opset_import
	ProducerName string
	Graph        *Graph
}

// OpsetID is an OperatorSetIdProto: an operator domain ("" is the default ai.onnx) and its
// version.
type OpsetID struct {
	Domain  string
	Version int64
}

// Graph is an ONNX GraphProto.
type Graph struct {
	Name         string
	Nodes        []*Node
	Initializers []*Tensor
	Inputs       []*ValueInfo
	Outputs      []*ValueInfo
}

// Node is an ONNX NodeProto.
type Node struct {
	Name    string
	OpType  string
	Domain  string
	Inputs  []string
	Outputs []string
	Attrs   []*Attr
}

// Attribute types of AttributeProto.type.
const (
	attrFloat   = 1
	attrInt     = 2
	attrString  = 3
	attrTensor  = 4
	attrGraph   = 5
	attrFloats  = 6
	attrInts    = 7
	attrStrings = 8
)

// Attr is an ONNX AttributeProto; subgraph and sparse attributes are recorded by type only.
type Attr struct {
	Name   string
	Type   int64
	F      float32
	I      int64
	S      []byte
	T      *Tensor
	Floats []float32
	Ints   []int64
}

// TensorProto data types vggsim knows.
const (
	dtFloat = 1
	dtInt32 = 6
	dtInt64 = 7
)

// Tensor is an ONNX TensorProto. Exactly one of the data fields is set for a tensor with
// data; External lists the external_data key/value pairs when the data lives in a file.
type Tensor struct {
	Name      string
	Dims      []int64
	DataType  int32
	Raw       []byte
	Floats    []float32
	Int32s    []int64 // int32_data, widened
	Int64s    []int64
	External  [][2]string
	Location  int64 // data_location: 0 default, 1 external
	hasFloats bool
	hasInts   bool
}

// ValueInfo is an ONNX ValueInfoProto of a tensor type: its name, element type and shape
// (a dimension is -1 when symbolic or unknown).
type ValueInfo struct {
	Name     string
	ElemType int32
	Dims     []int64
	DimNames []string // dim_param per dimension, "" when concrete
}

// limits bounds what the decoder accepts; see Limits.
type decoder struct {
	lim   Limits
	nodes int
	elems int64
}

// fields walks the fields of one message, calling f with each field's number, wire type and
// raw value (for varints and fixed values the number, for bytes the payload).
func fields(b []byte, f func(num protowire.Number, typ protowire.Type, v uint64, p []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("bad field tag: %w", protowire.ParseError(n))
		}
		b = b[n:]
		var v uint64
		var p []byte
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var x uint32
			x, n = protowire.ConsumeFixed32(b)
			v = uint64(x)
		case protowire.Fixed64Type:
			v, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			p, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := f(num, typ, v, p); err != nil {
			return err
		}
	}
	return nil
}

// int64s appends a repeated int64 field, packed or not.
func int64s(dst []int64, typ protowire.Type, v uint64, p []byte, max int) ([]int64, error) {
	if typ == protowire.VarintType {
		if len(dst) >= max {
			return nil, fmt.Errorf("more than %d elements", max)
		}
		return append(dst, int64(v)), nil
	}
	if typ != protowire.BytesType {
		return nil, fmt.Errorf("wire type %d for a repeated integer", typ)
	}
	for len(p) > 0 {
		x, n := protowire.ConsumeVarint(p)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		if len(dst) >= max {
			return nil, fmt.Errorf("more than %d elements", max)
		}
		dst = append(dst, int64(x))
		p = p[n:]
	}
	return dst, nil
}

// float32s appends a repeated float field, packed or not.
func float32s(dst []float32, typ protowire.Type, v uint64, p []byte, max int) ([]float32, error) {
	if typ == protowire.Fixed32Type {
		if len(dst) >= max {
			return nil, fmt.Errorf("more than %d elements", max)
		}
		return append(dst, math.Float32frombits(uint32(v))), nil
	}
	if typ != protowire.BytesType || len(p)%4 != 0 {
		return nil, fmt.Errorf("bad packed float field")
	}
	if len(dst)+len(p)/4 > max {
		return nil, fmt.Errorf("more than %d elements", max)
	}
	for i := 0; i < len(p); i += 4 {
		dst = append(dst, math.Float32frombits(binary.LittleEndian.Uint32(p[i:])))
	}
	return dst, nil
}

func wantBytes(typ protowire.Type, what string) error {
	if typ != protowire.BytesType {
		return fmt.Errorf("%s: wire type %d, want length-delimited", what, typ)
	}
	return nil
}

func (d *decoder) model(b []byte) (*Model, error) {
	m := &Model{}
	err := fields(b, func(num protowire.Number, typ protowire.Type, v uint64, p []byte) error {
		switch num {
		case 1:
			m.IRVersion = int64(v)
		case 2:
			m.ProducerName = string(p)
		case 7:
			if err := wantBytes(typ, "graph"); err != nil {
				return err
			}
			if m.Graph != nil {
				return fmt.Errorf("two graphs")
			}
			g, err := d.graph(p)
			if err != nil {
				return err
			}
			m.Graph = g
		case 8:
			if err := wantBytes(typ, "opset_import"); err != nil {
				return err
			}
			if len(m.Opsets) >= 64 {
				return fmt.Errorf("more than 64 opset imports")
			}
			var o OpsetID
			if err := fields(p, func(num protowire.Number, typ protowire.Type, v uint64, p []byte) error {
				switch num {
				case 1:
					o.Domain = string(p)
				case 2:
					o.Version = int64(v)
				}
				return nil
			}); err != nil {
				return fmt.Errorf("opset_import: %w", err)
			}
			m.Opsets = append(m.Opsets, o)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if m.Graph == nil {
		return nil, fmt.Errorf("no graph")
	}
	return m, nil
}

func (d *decoder) graph(b []byte) (*Graph, error) {
	g := &Graph{}
	return g, fields(b, func(num protowire.Number, typ protowire.Type, v uint64, p []byte) error {
		switch num {
		case 1:
			if err := wantBytes(typ, "node"); err != nil {
				return err
			}
			if d.nodes++; d.nodes > d.lim.MaxNodes {
				return fmt.Errorf("more than %d nodes", d.lim.MaxNodes)
			}
			n, err := d.node(p)
			if err != nil {
				return fmt.Errorf("node %d: %w", len(g.Nodes), err)
			}
			g.Nodes = append(g.Nodes, n)
		case 2:
			g.Name = string(p)
		case 5:
			if err := wantBytes(typ, "initializer"); err != nil {
				return err
			}
			if d.nodes++; d.nodes > d.lim.MaxNodes {
				return fmt.Errorf("more than %d nodes and initializers", d.lim.MaxNodes)
			}
			t, err := d.tensor(p)
			if err != nil {
				return fmt.Errorf("initializer %d: %w", len(g.Initializers), err)
			}
			g.Initializers = append(g.Initializers, t)
		case 11, 12:
			if err := wantBytes(typ, "input/output"); err != nil {
				return err
			}
			if len(g.Inputs)+len(g.Outputs) >= d.lim.MaxNodes {
				return fmt.Errorf("more than %d graph inputs and outputs", d.lim.MaxNodes)
			}
			vi, err := valueInfo(p)
			if err != nil {
				return err
			}
			if num == 11 {
				g.Inputs = append(g.Inputs, vi)
			} else {
				g.Outputs = append(g.Outputs, vi)
			}
		}
		return nil
	})
}

// maxListLen bounds the repeated fields of a node (inputs, outputs, attributes, ints).
const maxListLen = 1 << 16

func (d *decoder) node(b []byte) (*Node, error) {
	n := &Node{}
	return n, fields(b, func(num protowire.Number, typ protowire.Type, v uint64, p []byte) error {
		switch num {
		case 1, 2:
			if err := wantBytes(typ, "input/output"); err != nil {
				return err
			}
			if len(n.Inputs)+len(n.Outputs) >= maxListLen {
				return fmt.Errorf("more than %d inputs and outputs", maxListLen)
			}
			if num == 1 {
				n.Inputs = append(n.Inputs, string(p))
			} else {
				n.Outputs = append(n.Outputs, string(p))
			}
		case 3:
			n.Name = string(p)
		case 4:
			n.OpType = string(p)
		case 7:
			n.Domain = string(p)
		case 5:
			if err := wantBytes(typ, "attribute"); err != nil {
				return err
			}
			if len(n.Attrs) >= maxListLen {
				return fmt.Errorf("more than %d attributes", maxListLen)
			}
			a, err := d.attr(p)
			if err != nil {
				return fmt.Errorf("attribute %d: %w", len(n.Attrs), err)
			}
			n.Attrs = append(n.Attrs, a)
		}
		return nil
	})
}

func (d *decoder) attr(b []byte) (*Attr, error) {
	a := &Attr{}
	var err error
	return a, fields(b, func(num protowire.Number, typ protowire.Type, v uint64, p []byte) error {
		switch num {
		case 1:
			a.Name = string(p)
		case 20:
			a.Type = int64(v)
		case 2:
			a.F = math.Float32frombits(uint32(v))
		case 3:
			a.I = int64(v)
		case 4:
			a.S = p
		case 5:
			if err := wantBytes(typ, "t"); err != nil {
				return err
			}
			a.T, err = d.tensor(p)
			return err
		case 7:
			a.Floats, err = float32s(a.Floats, typ, v, p, maxListLen)
			return err
		case 8:
			a.Ints, err = int64s(a.Ints, typ, v, p, maxListLen)
			return err
		}
		return nil
	})
}

func (d *decoder) tensor(b []byte) (*Tensor, error) {
	t := &Tensor{}
	max := int(min(d.lim.MaxTensorElems, math.MaxInt32))
	var err error
	err = fields(b, func(num protowire.Number, typ protowire.Type, v uint64, p []byte) error {
		switch num {
		case 1:
			t.Dims, err = int64s(t.Dims, typ, v, p, 16)
			return err
		case 2:
			t.DataType = int32(v)
		case 4:
			t.hasFloats = true
			t.Floats, err = float32s(t.Floats, typ, v, p, max)
			return err
		case 5:
			t.hasInts = true
			t.Int32s, err = int64s(t.Int32s, typ, v, p, max)
			return err
		case 7:
			t.hasInts = true
			t.Int64s, err = int64s(t.Int64s, typ, v, p, max)
			return err
		case 8:
			t.Name = string(p)
		case 9:
			t.Raw = p
		case 13:
			if len(t.External) >= 16 {
				return fmt.Errorf("more than 16 external_data entries")
			}
			var kv [2]string
			if err := fields(p, func(num protowire.Number, typ protowire.Type, v uint64, p []byte) error {
				if num == 1 || num == 2 {
					kv[num-1] = string(p)
				}
				return nil
			}); err != nil {
				return err
			}
			t.External = append(t.External, kv)
		case 14:
			t.Location = int64(v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	n, err := t.numel(d.lim.MaxTensorElems)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.Name, err)
	}
	if d.elems += n; d.elems > d.lim.MaxTotalElems {
		return nil, fmt.Errorf("tensor %q: the model holds more than %d tensor elements", t.Name, d.lim.MaxTotalElems)
	}
	return t, nil
}

// numel returns the element count of t's dims, checked against max.
func (t *Tensor) numel(max int64) (int64, error) {
	n := int64(1)
	for _, d := range t.Dims {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in %v", t.Dims)
		}
		if d > 0 && n > max/d {
			return 0, fmt.Errorf("dims %v exceed %d elements", t.Dims, max)
		}
		n *= d
	}
	return n, nil
}

func valueInfo(b []byte) (*ValueInfo, error) {
	vi := &ValueInfo{}
	err := fields(b, func(num protowire.Number, typ protowire.Type, v uint64, p []byte) error {
		switch num {
		case 1:
			vi.Name = string(p)
		case 2: // TypeProto
			return fields(p, func(num protowire.Number, typ protowire.Type, v uint64, p []byte) error {
				if num != 1 { // tensor_type only
					return nil
				}
				return fields(p, func(num protowire.Number, typ protowire.Type, v uint64, p []byte) error {
					switch num {
					case 1:
						vi.ElemType = int32(v)
					case 2: // TensorShapeProto
						return fields(p, func(num protowire.Number, typ protowire.Type, v uint64, p []byte) error {
							if num != 1 {
								return nil
							}
							if len(vi.Dims) >= 16 {
								return fmt.Errorf("more than 16 dimensions")
							}
							dim, name := int64(-1), ""
							if err := fields(p, func(num protowire.Number, typ protowire.Type, v uint64, p []byte) error {
								switch num {
								case 1:
									dim = int64(v)
								case 2:
									name = string(p)
								}
								return nil
							}); err != nil {
								return err
							}
							vi.Dims = append(vi.Dims, dim)
							vi.DimNames = append(vi.DimNames, name)
							return nil
						})
					}
					return nil
				})
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("value_info %q: %w", vi.Name, err)
	}
	return vi, nil
}

// ---- encoding ----------------------------------------------------------------------------

func appendString(b []byte, num protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendVarint(b []byte, num protowire.Number, v int64) []byte {
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

func appendMessage(b []byte, num protowire.Number, m []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}

// Marshal encodes m as a ModelProto.
func (m *Model) Marshal() []byte {
	var b []byte
	b = appendVarint(b, 1, m.IRVersion)
	if m.ProducerName != "" {
		b = appendString(b, 2, m.ProducerName)
	}
	b = appendMessage(b, 7, m.Graph.marshal())
	for _, o := range m.Opsets {
		var ob []byte
		if o.Domain != "" {
			ob = appendString(ob, 1, o.Domain)
		}
		ob = appendVarint(ob, 2, o.Version)
		b = appendMessage(b, 8, ob)
	}
	return b
}

func (g *Graph) marshal() []byte {
	var b []byte
	for _, n := range g.Nodes {
		b = appendMessage(b, 1, n.marshal())
	}
	b = appendString(b, 2, g.Name)
	for _, t := range g.Initializers {
		b = appendMessage(b, 5, t.marshal())
	}
	for _, vi := range g.Inputs {
		b = appendMessage(b, 11, vi.marshal())
	}
	for _, vi := range g.Outputs {
		b = appendMessage(b, 12, vi.marshal())
	}
	return b
}

func (n *Node) marshal() []byte {
	var b []byte
	for _, s := range n.Inputs {
		b = appendString(b, 1, s)
	}
	for _, s := range n.Outputs {
		b = appendString(b, 2, s)
	}
	b = appendString(b, 3, n.Name)
	b = appendString(b, 4, n.OpType)
	for _, a := range n.Attrs {
		b = appendMessage(b, 5, a.marshal())
	}
	if n.Domain != "" {
		b = appendString(b, 7, n.Domain)
	}
	return b
}

func (a *Attr) marshal() []byte {
	var b []byte
	b = appendString(b, 1, a.Name)
	switch a.Type {
	case attrFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.F))
	case attrInt:
		b = appendVarint(b, 3, a.I)
	case attrInts:
		for _, v := range a.Ints {
			b = appendVarint(b, 8, v)
		}
	case attrTensor:
		b = appendMessage(b, 5, a.T.marshal())
	}
	return appendVarint(b, 20, a.Type)
}

func (t *Tensor) marshal() []byte {
	var b []byte
	for _, d := range t.Dims {
		b = appendVarint(b, 1, d)
	}
	b = appendVarint(b, 2, int64(t.DataType))
	b = appendString(b, 8, t.Name)
	if t.Location == 1 || len(t.External) > 0 {
		for _, kv := range t.External {
			var e []byte
			e = appendString(e, 1, kv[0])
			e = appendString(e, 2, kv[1])
			b = appendMessage(b, 13, e)
		}
		return appendVarint(b, 14, 1)
	}
	if t.Raw == nil && t.Int64s != nil {
		var packed []byte
		for _, v := range t.Int64s {
			packed = protowire.AppendVarint(packed, uint64(v))
		}
		return appendMessage(b, 7, packed)
	}
	b = protowire.AppendTag(b, 9, protowire.BytesType)
	return protowire.AppendBytes(b, t.Raw)
}

func (vi *ValueInfo) marshal() []byte {
	var shape []byte
	for i, d := range vi.Dims {
		var dim []byte
		if i < len(vi.DimNames) && vi.DimNames[i] != "" {
			dim = appendString(dim, 2, vi.DimNames[i])
		} else {
			dim = appendVarint(dim, 1, d)
		}
		shape = appendMessage(shape, 1, dim)
	}
	var tt []byte
	tt = appendVarint(tt, 1, int64(vi.ElemType))
	tt = appendMessage(tt, 2, shape)
	var tp []byte
	tp = appendMessage(tp, 1, tt)
	var b []byte
	b = appendString(b, 1, vi.Name)
	return appendMessage(b, 2, tp)
}
