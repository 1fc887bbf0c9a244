package emit

import (
	"sort"
	"strings"

	"github.com/llir/llvm/ir"
	"github.com/llir/llvm/ir/types"
)

// TargetTriple is the triple every module is emitted for.
const TargetTriple = "x86_64-pc-linux-gnu"

// Module is an LLVM module under construction: llir's module plus a table of declared
// functions (each intrinsic or C function declared once) and comments to print above
// function definitions.
type Module struct {
	M        *ir.Module
	decls    map[string]*ir.Func
	comments map[string][]string
	header   []string
	csrc     []CSource
}

// CSource is a C file compiled and linked with the module: a small runtime (a thread
// pool, a timer) that kernels call through Declare'd functions.
type CSource struct {
	Name string // file name, e.g. "pool.c"; unique per module
	Text string
}

// AddCSource adds a C file to the build, once per name (later adds of the same name are
// ignored, so every kernel that needs a runtime may add it).
func (m *Module) AddCSource(name, text string) {
	for _, c := range m.csrc {
		if c.Name == name {
			return
		}
	}
	m.csrc = append(m.csrc, CSource{name, text})
}

// CSources returns the C files added, in order.
func (m *Module) CSources() []CSource { return m.csrc }

// NewModule returns an empty module for TargetTriple.
func NewModule() *Module {
	m := ir.NewModule()
	m.TargetTriple = TargetTriple
	return &Module{M: m, decls: map[string]*ir.Func{}, comments: map[string][]string{}}
}

// Declare returns the declaration of the external function or intrinsic name, adding it
// on first use.
func (m *Module) Declare(name string, ret types.Type, params ...types.Type) *ir.Func {
	if f, ok := m.decls[name]; ok {
		return f
	}
	ps := make([]*ir.Param, len(params))
	for i, t := range params {
		ps[i] = ir.NewParam("", t)
	}
	f := m.M.NewFunc(name, ret, ps...)
	m.decls[name] = f
	return f
}

// Comment adds lines printed as "; line" above the definition of function fn.
func (m *Module) Comment(fn string, lines ...string) {
	m.comments[fn] = append(m.comments[fn], lines...)
}

// Header adds lines printed as comments at the top of the module.
func (m *Module) Header(lines ...string) { m.header = append(m.header, lines...) }

// String prints the module as LLVM assembly with the comments in place.
func (m *Module) String() string {
	text := m.M.String()
	var b strings.Builder
	for _, l := range m.header {
		b.WriteString(commentLine(l))
	}
	names := make([]string, 0, len(m.comments))
	for n := range m.comments {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, line := range strings.SplitAfter(text, "\n") {
		if strings.HasPrefix(line, "define ") {
			if i := strings.Index(line, " @"); i >= 0 {
				rest := line[i+2:]
				if j := strings.IndexByte(rest, '('); j >= 0 {
					name := strings.Trim(rest[:j], `"`)
					for _, c := range m.comments[name] {
						b.WriteString(commentLine(c))
					}
				}
			}
		}
		b.WriteString(line)
	}
	return b.String()
}

func commentLine(s string) string {
	if s == "" {
		return ";\n"
	}
	return "; " + strings.ReplaceAll(s, "\n", " ") + "\n"
}
