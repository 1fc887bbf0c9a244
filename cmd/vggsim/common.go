package main

import (
	"errors"
	"flag"
	"fmt"
	"github.com/vggsim/vggsim/sim"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vggsim/vggsim/checkpoint"
	"github.com/vggsim/vggsim/internal/progress"
	"github.com/vggsim/vggsim/ir"
	"github.com/vggsim/vggsim/models"
	"github.com/vggsim/vggsim/onnx"
	"github.com/vggsim/vggsim/reparam"
)

// newFlagSet returns a FlagSet for one subcommand whose -h prints the synopsis, a
// description and the flags to stdout (so `vggsim CMD -h | less` works); parse errors go
// to stderr as one line.
func newFlagSet(name, synopsis, desc string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "usage: vggsim %s %s\n\n%s\n", name, synopsis, desc)
		if hasFlags(fs) {
			fmt.Fprintln(stdout, "\nflags:")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			fs.SetOutput(stderr)
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// usageError prints a usage problem of fs's command as one line with the hint to -h, and
// returns the exit status for bad usage.
func usageError(fs *flag.FlagSet, format string, a ...any) int {
	msg := oneLine(fmt.Sprintf(format, a...), maxErrorLen)
	fmt.Fprintf(fs.Output(), "vggsim %s: %s (run 'vggsim %s -h' for usage)\n", fs.Name(), msg, fs.Name())
	return exitUsage
}

// parseArgs parses flags that may appear before, between or after positional arguments
// (`vggsim infer MODEL --weights F`), and checks the positional count is within
// [minPos, maxPos] (maxPos < 0: unbounded). On failure it returns the exit status to use:
// 0 after -h (the usage went to stdout), 2 after one line on stderr.
func parseArgs(fs *flag.FlagSet, args []string, minPos, maxPos int) (pos []string, code int, ok bool) {
	for {
		if err := parseQuiet(fs, args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.Usage()
				return nil, exitOK, false
			}
			return nil, usageError(fs, "%s", err), false
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) < minPos || (maxPos >= 0 && len(pos) > maxPos) {
		switch {
		case maxPos == 0:
			return nil, usageError(fs, "unexpected argument %q", pos[0]), false
		case len(pos) < minPos:
			return nil, usageError(fs, "missing argument"), false
		default:
			return nil, usageError(fs, "too many arguments: %s", strings.Join(pos, " ")), false
		}
	}
	return pos, exitOK, true
}

// parseQuiet is fs.Parse without the flag package's own printing: the error comes back
// to be printed as one line, and the usage is printed only for -h.
func parseQuiet(fs *flag.FlagSet, args []string) error {
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	defer func() { fs.Usage = usage; fs.SetOutput(out) }()
	return fs.Parse(args)
}

// inputError marks an error caused by bad user input (exit status 2).
type inputError struct{ err error }

func (e inputError) Error() string { return e.err.Error() }
func (e inputError) Unwrap() error { return e.err }

// badInput wraps err as an input error; nil stays nil.
func badInput(err error) error {
	if err == nil {
		return nil
	}
	return inputError{err}
}

// fail prints err for command name and returns its exit status: 2 for input errors, 1
// otherwise.
func fail(stderr io.Writer, name string, err error) int {
	fmt.Fprintf(stderr, "vggsim %s: %s\n", name, errorLines(err.Error()))
	var ie inputError
	if errors.As(err, &ie) || errors.Is(err, sim.ErrOverflow) { // overflow: hardware too slow for its clock
		return exitUsage
	}
	return exitFail
}

// Bounds on a printed error: runes per line, and lines (a collected list of problems has
// one per line).
const (
	maxErrorLen   = 400
	maxErrorLines = 20
)

// errorLines prepares an error message for printing: each line (one problem of a
// collected list) made printable and cut by oneLine, at most maxErrorLines of them.
func errorLines(msg string) string {
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	extra := 0
	if len(lines) > maxErrorLines {
		extra = len(lines) - maxErrorLines
		lines = lines[:maxErrorLines]
	}
	for i, l := range lines {
		lines[i] = oneLine(l, maxErrorLen)
	}
	if extra > 0 {
		lines = append(lines, fmt.Sprintf("… and %d more problems", extra))
	}
	return strings.Join(lines, "\n")
}

// oneLine makes msg one printable line of at most max runes: line breaks become "; ",
// tabs spaces, other control characters (ANSI escapes from a file's text) are dropped, and a longer
// message is cut with "…".
func oneLine(msg string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.TrimSpace(msg) {
		switch {
		case r == '\n':
			b.WriteString("; ")
			n += 2
		case r == '\t':
			b.WriteByte(' ')
			n++
		case unicode.IsControl(r) || r == utf8.RuneError:
			continue
		default:
			b.WriteRune(r)
			n++
		}
		if n >= max {
			return b.String() + "…"
		}
	}
	return b.String()
}

// deprecatedInput registers --input on a command whose image size flag is --input-size:
// --input names an .npy array (infer, quant) and nothing else, so the old size alias is an
// error that says which flag to use.
func deprecatedInput(fs *flag.FlagSet) {
	fs.Func("input", "removed: the image size is --input-size; --input names an .npy array (infer, quant)", func(v string) error {
		return fmt.Errorf("use --input-size %s for the image size (--input names an .npy array, in infer and quant)", v)
	})
}

// startProgress starts command name's progress line on stderr when stderr is a terminal
// (else the Bar is nil and does nothing), and returns it with stderr routed through it so
// that a message first erases the line. Stop it before printing results.
func startProgress(name string, stderr io.Writer) (*progress.Bar, io.Writer) {
	bar := progress.Start(stderr, "vggsim "+name)
	return bar, bar.Through(stderr)
}

// parseSize parses an --input-size value "H" or "HxW".
func parseSize(s string) (h, w int, err error) {
	hs, ws, ok := strings.Cut(s, "x")
	if !ok {
		ws = hs
	}
	h, err1 := strconv.Atoi(hs)
	w, err2 := strconv.Atoi(ws)
	if err1 != nil || err2 != nil || h <= 0 || w <= 0 {
		return 0, 0, fmt.Errorf("bad input size %q, want H or HxW (e.g. 224 or 320x320)", s)
	}
	return h, w, nil
}

// modelFlags are the flags every model-taking subcommand shares.
type modelFlags struct {
	form    string
	formSet bool // --form was given on the command line
	weights string
	input   string
	seed    uint64
	classes int
	// allowNonFinite lets NaN and infinite values through (--allow-nonfinite).
	allowNonFinite bool
	// log receives notices (random weights); the flag set's output, stderr.
	log io.Writer
}

// Which of the optional model flags a subcommand takes (--input-size and --classes always).
const (
	withForm    = 1 << iota // --form train|deploy
	withWeights             // --weights
	withSeed                // --seed, for the random weights used without --weights
)

func (m *modelFlags) register(fs *flag.FlagSet, which int) {
	m.form = "train"
	if which&withForm != 0 {
		usage := "model `form`: train (multi-branch) or deploy (fused)"
		if which&withWeights != 0 {
			usage += "; a deploy-form --weights checkpoint implies deploy"
		}
		fs.Var(formFlag{m}, "form", usage)
	}
	fs.StringVar(&m.input, "input-size", "", "input image size `H[xW]` (default 224, or the model file's input)")
	fs.IntVar(&m.classes, "classes", 0, "classifier width (default 1000, or the model file's num_classes)")
	m.log = fs.Output()
	if which&withWeights != 0 {
		fs.BoolVar(&m.allowNonFinite, "allow-nonfinite", false, "accept NaN and infinite values in --weights (and --input arrays)")
		fs.StringVar(&m.weights, "weights", "", "checkpoint `file` (.pth, .safetensors, .npz; reference or timm names), train or deploy form; default: an ONNX model's own weights, else seeded random ones")
	}
	if which&withSeed != 0 {
		fs.Uint64Var(&m.seed, "seed", 1, "seed for random weights when no --weights is given")
	}
}

// options turns the flags into models.Options.
func (m *modelFlags) options() (models.Options, error) {
	var o models.Options
	if m.form != "train" && m.form != "deploy" {
		return o, fmt.Errorf("--form %q: want train or deploy", m.form)
	}
	if m.input != "" {
		h, w, err := parseSize(m.input)
		if err != nil {
			return o, err
		}
		o.InputH, o.InputW = h, w
	}
	if m.classes < 0 {
		return o, fmt.Errorf("--classes %d must be positive", m.classes)
	}
	o.NumClasses = m.classes
	return o, nil
}

// structure builds MODEL in the flags' form without parameters.
func (m *modelFlags) structure(arg string) (*ir.Graph, error) {
	o, err := m.options()
	if err != nil {
		return nil, badInput(err)
	}
	o.Deploy = m.form == "deploy"
	g, err := models.Resolve(arg, o)
	return g, badInput(err)
}

// load builds MODEL in the flags' form with parameters: from --weights (a train-form
// checkpoint is fused when the deploy form is asked for; a deploy-form checkpoint binds to
// the deploy graph directly) or an ONNX model's own weights, or seeded random ones.
func (m *modelFlags) load(arg string, o models.Options) (*ir.Graph, error) {
	if m.weights == "" && onnx.IsPath(arg) { // the file's own weights
		g, err := models.LoadONNX(arg, o)
		if err != nil {
			return nil, badInput(err)
		}
		if err := reparam.CheckBatchNorm(g); err != nil {
			return nil, badInput(fmt.Errorf("%s: %w", arg, err))
		}
		return toForm(g, m.form)
	}
	if m.weights == "" {
		g, err := models.Resolve(arg, o)
		if err != nil {
			return nil, badInput(err)
		}
		if err := models.CheckBudget(g, 1); err != nil { // before allocating the weights
			return nil, badInput(err)
		}
		m.randomNotice(g.Name)
		models.InitWeights(g, m.seed)
		return toForm(g, m.form)
	}
	sd, err := checkpoint.Load(m.weights)
	if err != nil {
		return nil, badInput(err)
	}
	if err := m.checkFinite(m.weights, sd); err != nil {
		return nil, err
	}
	g, deploy, err := bindForm(arg, o, sd, m.weights)
	if err != nil {
		return nil, err
	}
	if deploy {
		if !m.formSet {
			m.form = "deploy" // the checkpoint decides when the user did not
		}
		if m.form != "deploy" {
			return nil, badInput(fmt.Errorf("%s is a deploy-form checkpoint (%s); run it with --form deploy", m.weights, models.FusedReason(sd.Keys)))
		}
		return g, nil
	}
	if err := reparam.CheckBatchNorm(g); err != nil { // NaNs otherwise, in the train form
		return nil, badInput(fmt.Errorf("%s: %w", m.weights, err))
	}
	return toForm(g, m.form)
}

// randomNotice says on stderr that model runs on seeded random weights.
func (m *modelFlags) randomNotice(model string) {
	if m.log != nil {
		fmt.Fprintf(m.log, "vggsim: no --weights: %s uses seeded random weights (--seed %d); its outputs mean nothing\n", model, m.seed)
	}
}

// checkFinite rejects a checkpoint holding NaN or infinite values unless
// --allow-nonfinite was given.
func (m *modelFlags) checkFinite(path string, sd *checkpoint.StateDict) error {
	if m.allowNonFinite {
		return nil
	}
	if err := sd.CheckFinite(); err != nil {
		return badInput(fmt.Errorf("%s: %w (pass --allow-nonfinite to use it anyway)", path, err))
	}
	return nil
}

// formFlag is the --form flag; it records that the user chose a form, so that a deploy-form
// checkpoint can select the deploy form when they did not.
type formFlag struct{ m *modelFlags }

func (f formFlag) String() string {
	if f.m == nil {
		return ""
	}
	return f.m.form
}

func (f formFlag) Set(s string) error {
	f.m.form, f.m.formSet = s, true
	return nil
}

func toForm(g *ir.Graph, form string) (*ir.Graph, error) {
	if form != "deploy" {
		return g, nil
	}
	d, err := reparam.Deploy(g, reparam.Options{})
	return d, badInput(err)
}

// refuseOverwrite returns an input error if out names the same file as in (the input
// named by flag), unless force: writing the output would destroy the input.
func refuseOverwrite(out, in, flag string, force bool) error {
	if force || out == "" || in == "" || out == stdoutPath {
		return nil
	}
	so, err1 := os.Stat(out)
	si, err2 := os.Stat(in)
	if err1 == nil && err2 == nil && os.SameFile(so, si) {
		return badInput(fmt.Errorf("-o %s is the %s file; refusing to overwrite it (pass --force to replace it)", out, flag))
	}
	return nil
}
