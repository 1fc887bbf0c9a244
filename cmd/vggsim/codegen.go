package main

import (
	"errors"
	"flag"
	"fmt"
	"github.com/vggsim/vggsim/internal/atomicfile"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vggsim/vggsim/codegen"
	"github.com/vggsim/vggsim/codegen/emit"
	"github.com/vggsim/vggsim/codegen/kern"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
)

// toolFlags are the compiler flags of build and infer --backend llvm.
type toolFlags struct {
	cc     string
	cflags string
	algo   string
	tune   bool
}

func (t *toolFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&t.cc, "cc", "", "clang `executable` (default: $"+codegen.ClangEnv+", else the newest clang-N on PATH, else clang)")
	fs.StringVar(&t.cflags, "cflags", strings.Join(codegen.DefaultFlags, " "), "optimization `flags` for clang")
	fs.StringVar(&t.algo, "algo", "auto", "conv `algorithm`: auto (cost model), direct or winograd (F(4x4,3x3) where it applies)")
	fs.BoolVar(&t.tune, "tune", false, "with --algo auto: time direct and winograd per layer shape at build time and keep the faster")
}

// envThreads returns $VGGSIM_THREADS (the pool size the runner will use), else 1: the
// threads --tune times kernels on.
func envThreads() int {
	n, err := strconv.Atoi(os.Getenv("VGGSIM_THREADS"))
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// options returns the codegen options of --algo and --tune for g (tuning on threads pool
// threads); the defaults give codegen.Options{}.
func (t *toolFlags) options(g *ir.Graph, threads int) (codegen.Options, error) {
	a, err := kern.ParseAlgo(t.algo)
	if err != nil {
		return codegen.Options{}, badInput(fmt.Errorf("--algo: %w", err))
	}
	if a == kern.AlgoAuto && !t.tune {
		return codegen.Options{}, nil
	}
	dir, err := os.MkdirTemp("", "vggsim-tune-")
	if err != nil {
		return codegen.Options{}, err
	}
	defer os.RemoveAll(dir)
	f, err := kern.NewFamily(g, a, t.tune, threads, dir)
	if err != nil {
		return codegen.Options{}, codegenErr(err)
	}
	return codegen.Options{Families: []emit.Family{f}}, nil
}

// toolchain finds clang; its absence is bad input (exit 2) with the install hint.
func (t *toolFlags) toolchain() (*codegen.Toolchain, error) {
	tc, err := codegen.NewToolchain(t.cc)
	if err != nil {
		return nil, badInput(err)
	}
	tc.Flags = strings.Fields(t.cflags)
	return tc, nil
}

// codegenErr classifies a codegen error: a graph the generator cannot compile, a missing
// clang or input the runner rejects is bad input; a compiler failure is a failure.
func codegenErr(err error) error {
	var ce *codegen.Error
	var re *codegen.RunError
	if errors.As(err, &ce) || errors.Is(err, codegen.ErrNoClang) || (errors.As(err, &re) && re.BadInput()) {
		return badInput(err)
	}
	return err
}

func cmdCodegen(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("codegen", "MODEL [-o model.ll] [--plan] [--form train|deploy] [--input-size H[xW]] [--classes N]",
		"Emit MODEL as one LLVM IR module (text): a shape-specialized function per distinct layer,\n"+
			"commented with the IR nodes that call it, and the exported C ABI (docs/codegen.md).\n"+
			"The text does not depend on the weights. Without -o the module goes to stdout.\n"+
			"--plan prints the schedule instead: every step's kernel, layouts and scratch offsets.", stdout, stderr)
	var mf modelFlags
	mf.register(fs, withForm)
	mf.form, fs.Lookup("form").DefValue = "deploy", "deploy"
	out := fs.String("o", "", "output `file` (.ll; - or none: stdout)")
	plan := fs.Bool("plan", false, "print the plan (steps, kernels, layouts, scratch offsets) instead of the module")
	pos, code, ok := parseArgs(fs, args, 1, 1)
	if !ok {
		return code
	}
	g, err := mf.structure(pos[0])
	if err != nil {
		return fail(stderr, "codegen", err)
	}
	models.InitWeights(g, 1) // the plan reads parameter shapes; the text does not depend on values
	bar, stderr := startProgress("codegen", stderr)
	defer bar.Stop()
	bar.Stage("generating LLVM IR")
	m, err := codegen.Generate(g, codegen.Options{})
	if err != nil {
		return fail(stderr, "codegen", codegenErr(err))
	}
	bar.Stop()
	if *plan {
		if err := m.Plan.Format(stdout); err != nil {
			return fail(stderr, "codegen", err)
		}
		return exitOK
	}
	if *out == "" || *out == stdoutPath {
		io.WriteString(stdout, m.LL)
		return exitOK
	}
	if err := atomicfile.WriteFile(*out, []byte(m.LL)); err != nil {
		return fail(stderr, "codegen", err)
	}
	fmt.Fprintf(stdout, "%s (%s form): %s, %d kernel functions for %d steps, scratch %s, weights %s\n",
		g.Name, mf.form, *out, len(m.Functions), len(m.Plan.Steps), bytesString(m.Plan.ScratchBytes), bytesString(m.Plan.WeightsBytes))
	return exitOK
}

func cmdBuild(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("build", "MODEL [--weights F] -o DIR [--form train|deploy] [--input-size H[xW]] [--cc CLANG] [--cflags FLAGS]",
		"Generate MODEL's LLVM IR and compile it into DIR: the module (.ll), a C header (.h), a\n"+
			"shared library (lib<sym>.so), the weights blob (<sym>.weights) and a runner executable\n"+
			"(<sym> weights in.npy out.npy). Builds are cached by content under the user cache dir.", stdout, stderr)
	var mf modelFlags
	mf.register(fs, withForm|withWeights|withSeed)
	mf.form, fs.Lookup("form").DefValue = "deploy", "deploy"
	var tf toolFlags
	tf.register(fs)
	out := fs.String("o", "", "output `directory` (required)")
	pos, code, ok := parseArgs(fs, args, 1, 1)
	if !ok {
		return code
	}
	if *out == "" {
		return usageError(fs, "-o is required")
	}
	if err := noStdout("-o", *out, "build writes a directory of files"); err != nil {
		return fail(stderr, "build", err)
	}
	if fi, err := os.Stat(*out); err == nil && !fi.IsDir() {
		return fail(stderr, "build", badInput(fmt.Errorf("-o %s is a file, want a directory", *out)))
	}
	o, err := mf.options()
	if err != nil {
		return fail(stderr, "build", badInput(err))
	}
	tc, err := tf.toolchain()
	if err != nil {
		return fail(stderr, "build", err)
	}
	bar, stderr := startProgress("build", stderr)
	defer bar.Stop()
	mf.log = stderr
	bar.Stage("loading the model")
	g, err := mf.load(pos[0], o)
	if err != nil {
		return fail(stderr, "build", err)
	}
	t0 := time.Now()
	if tf.tune {
		bar.Stage("tuning: timing direct and winograd kernels per layer")
	}
	opts, err := tf.options(g, envThreads())
	if err != nil {
		return fail(stderr, "build", err)
	}
	bar.Stage("generating LLVM IR")
	m, err := codegen.Generate(g, opts)
	if err != nil {
		return fail(stderr, "build", codegenErr(err))
	}
	bar.Stage("compiling with " + filepath.Base(tc.CC))
	a, err := tc.Compile(m)
	if err != nil {
		return fail(stderr, "build", codegenErr(err))
	}
	bar.Stage("writing " + *out)
	files, err := codegen.Install(m, a, *out)
	a.Remove() // a build outside the cache is a temporary; it has been copied
	if err != nil {
		return fail(stderr, "build", err)
	}
	took := time.Since(t0)
	sym := m.Plan.Symbol
	blob := filepath.Join(*out, sym+".weights")
	if err := m.WriteWeightsFile(blob); err != nil {
		return fail(stderr, "build", err)
	}
	files = append(files, blob)
	bar.Stop()
	cached := ""
	if a.Cached {
		cached = ", cached"
	}
	fmt.Fprintf(stdout, "%s (%s form) → %s (%s; %s, %.1fs%s)\n", g.Name, mf.form, *out, filepath.Base(tc.CC), strings.Join(tc.Flags, " "), took.Seconds(), cached)
	for _, f := range files {
		fmt.Fprintf(stdout, "  %s\n", f)
	}
	fmt.Fprintf(stdout, "kernel functions %d for %d steps; weights %s\n", len(m.Functions), len(m.Plan.Steps), bytesString(m.Plan.WeightsBytes))
	fmt.Fprintf(stdout, "scratch (activation arena) %s", bytesString(m.Plan.ScratchBytes))
	if other, err := otherFormScratch(pos[0], o, mf.form); err == nil {
		fmt.Fprintf(stdout, "; the %s form needs %s", other.form, bytesString(other.bytes))
	}
	fmt.Fprintf(stdout, "\nrun: %s %s in.npy out.npy\n", filepath.Join(*out, sym), blob)
	return exitOK
}

type formScratch struct {
	form  string
	bytes int64
}

// otherFormScratch plans the form not built, with seeded weights, for its scratch size.
func otherFormScratch(arg string, o models.Options, built string) (formScratch, error) {
	g, err := models.Resolve(arg, o)
	if err != nil {
		return formScratch{}, err
	}
	models.InitWeights(g, 1)
	other := "train"
	if built == "train" {
		other = "deploy"
		if g, err = toForm(g, "deploy"); err != nil {
			return formScratch{}, err
		}
	}
	p, err := codegen.NewPlan(g, codegen.Options{})
	if err != nil {
		return formScratch{}, err
	}
	return formScratch{other, p.ScratchBytes}, nil
}
