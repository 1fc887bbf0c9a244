// Command vggsim takes VGG-style networks from training form to silicon: it builds and
// loads RepVGG (and baseline) models, re-parameterizes them, runs them on a reference
// interpreter, and simulates them on a configurable systolic-array accelerator.
//
// Run `vggsim help` for the subcommands; each takes -h.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
)

// Exit statuses.
const (
	exitOK    = 0 // success
	exitFail  = 1 // the work failed
	exitUsage = 2 // bad usage or bad input
)

// A command is one subcommand: its name, a one-line summary, and its entry point.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

// commands lists the subcommands in the order `vggsim help` shows them.
func commands() []command {
	return []command{
		{"models", "list the model zoo with parameter and MAC counts", cmdModels},
		{"show", "print a model's IR (train or deploy form)", cmdShow},
		{"infer", "run a model on an input .npy with the reference interpreter", cmdInfer},
		{"fuse", "re-parameterize a train checkpoint into deploy weights", cmdFuse},
		{"quant", "int8-risk report: quantization error of fused vs branch weights", cmdQuant},
		{"simulate", "simulate a model on a systolic-array accelerator", cmdSimulate},
		{"roofline", "per-layer roofline of a model on one hardware point (table and plot)", cmdRoofline},
		{"memory", "activation memory and off-chip traffic, train vs deploy form", cmdMemory},
		{"fusion", "depth-first (line-buffer) fusion of conv3x3 stacks", cmdFusion},
		{"codegen", "emit a model as LLVM IR (one function per distinct layer, C ABI forward)", cmdCodegen},
		{"build", "compile a model to a shared library, header, weights blob and runner", cmdBuild},
		{"bench", "time the generated code: ms, GFLOP/s, % of the measured FMA peak, per layer", cmdBench},
		{"sweep", "what-if studies: grids over hardware and models, Pareto fronts, shards", cmdSweep},
		{"presets", "list the embedded hardware presets", cmdPresets},
		{"version", "print the vggsim version", cmdVersion},
		{"completion", "print a shell completion script (bash, zsh or fish)", cmdCompletion},
	}
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run is main without the process: it parses args, dispatches, and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		// The main job: simulate the embedded default model on the default hardware.
		return cmdSimulate(nil, stdout, stderr)
	}
	name := args[0]
	switch name {
	case "--version", "-version", "-V":
		return cmdVersion(nil, stdout, stderr)
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			return run([]string{args[1], "-h"}, stdout, stderr)
		}
		usage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(args[1:], stdout, stderr)
		}
	}
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	sort.Strings(names)
	fmt.Fprintf(stderr, "vggsim: unknown command %q; commands: %s\n", name, strings.Join(names, ", "))
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, "vggsim: RepVGG from training form to silicon.\n\nUsage:\n  vggsim <command> [arguments]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun `vggsim <command> -h` for a command's flags. With no command, vggsim runs\n`vggsim simulate`: RepVGG-A0 (deploy form) on the default edge-32 accelerator.\n")
}

// version is set by the linker (-ldflags "-X main.version=v1.2.3"); otherwise the module
// version or VCS revision from the build info is used.
var version = ""

func cmdVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "", "print the vggsim version", stdout, stderr)
	if _, code, ok := parseArgs(fs, args, 0, 0); !ok {
		return code
	}
	v := version
	if v == "" {
		v = "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok {
			if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				v = bi.Main.Version
			}
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					v += " " + s.Value[:12]
				}
			}
		}
	}
	fmt.Fprintf(stdout, "vggsim %s\n", v)
	return exitOK
}
