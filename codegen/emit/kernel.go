package emit

import (
	"github.com/llir/llvm/ir"
	vir "github.com/vggsim/vggsim/ir"
)

// Activation is an elementwise function a kernel applies to its result before storing it.
type Activation uint8

// The fusable activations.
const (
	ActNone  Activation = iota // identity
	ActReLU                    // max(x, 0)
	ActReLU6                   // min(max(x, 0), 6)
)

// String returns "", "relu" or "relu6".
func (a Activation) String() string {
	switch a {
	case ActReLU:
		return "relu"
	case ActReLU6:
		return "relu6"
	}
	return ""
}

// Request is what the planner asks a Family for one step of the schedule.
type Request struct {
	// Node is the IR node to compute (for a fused conv+ReLU, the conv).
	Node *vir.Node
	// Have holds the layouts the operands are stored in. A kernel may want others (In);
	// the planner then inserts reorders.
	Have []Layout
	// Act is the activation fused into the node (the ReLU that was its only reader).
	Act Activation
	// Out, when OutFixed is set, is the layout the result must be stored in: the node
	// writes in place into an operand's storage, or a reader needs NCHW (Flatten).
	Out      Layout
	OutFixed bool
	// Residual asks for the node's result plus one more operand, the other input of a
	// residual add that reads only this node's result, then Act: ReLU(conv(x) + r). Have
	// then ends with that operand's layout. A kernel that fuses the add implements
	// ResidualKernel, has one more In than the node has operands (its function: out,
	// operands…, r, weights…) and may be called with out equal to r (the add in place).
	// The planner uses no other kernel for such a request and plans the add as a step of
	// its own instead.
	Residual bool
}

// ResidualKernel is a Kernel that may fuse a residual add into its store: FusesResidual
// reports whether it does (it was chosen for a Request with Residual set and reads the
// extra operand).
type ResidualKernel interface {
	Kernel
	FusesResidual() bool
}

// Kernel is the code for one step: a function specialized to the node's shapes and
// layouts, plus its weights arranged the way the function reads them.
type Kernel interface {
	// Name is the LLVM function name. Equal names mean identical functions.
	Name() string
	// Family names the kernel family (e.g. "direct", "winograd").
	Family() string
	// In returns the layout the kernel reads each operand in.
	In() []Layout
	// Out returns the layout the kernel writes its result in.
	Out() Layout
	// Weights returns the arrays the function reads after its operands, arranged at
	// build time (packed, transformed). Errors are the node's bad parameters.
	Weights() ([][]float32, error)
	// Define adds the function to m; the module builder calls it once per Name.
	Define(m *Module) *ir.Func
}

// Family is a set of kernels of one algorithm. The planner asks its families in order and
// takes the first kernel offered.
type Family interface {
	// Name names the family.
	Name() string
	// Choose returns a kernel for req, or nil when the family does not handle it.
	Choose(req Request) Kernel
}
