package codegen

import (
	_ "embed"
	"fmt"
	"strings"
)

//go:embed runtime/main.c
var runnerMain string

// runnerSource returns runtime/main.c bound to m's symbols and shapes.
func runnerSource(m *Module) string {
	in, out := m.Plan.Graph.Input().Shape, m.Plan.Graph.Output.Shape
	defs := fmt.Sprintf("#define VGGSIM_IN_C %d\n#define VGGSIM_IN_H %d\n#define VGGSIM_IN_W %d\n#define VGGSIM_OUT_C %d\n#define VGGSIM_OUT_H %d\n#define VGGSIM_OUT_W %d\n",
		in.C, in.H, in.W, out.C, out.H, out.W)
	return defs + strings.ReplaceAll(runnerMain, "vggsim_MODEL_", m.Prefix())
}
