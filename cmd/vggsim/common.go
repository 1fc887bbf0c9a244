package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// newFlagSet returns a FlagSet for one subcommand whose -h prints the synopsis, a
// description and the flags to stderr.
func newFlagSet(name, synopsis, desc string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: vggsim %s %s\n\n%s\n", name, synopsis, desc)
		if hasFlags(fs) {
			fmt.Fprintln(stderr, "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parseArgs parses flags that may appear before, between or after positional arguments
// (`vggsim infer MODEL --weights F`), and checks the positional count is within
// [minPos, maxPos] (maxPos < 0: unbounded). On failure it returns the exit status to use.
func parseArgs(fs *flag.FlagSet, args []string, minPos, maxPos int) (pos []string, code int, ok bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, false
			}
			return nil, exitUsage, false
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
			fmt.Fprintf(fs.Output(), "vggsim %s: unexpected argument %q\n", fs.Name(), pos[0])
		case len(pos) < minPos:
			fmt.Fprintf(fs.Output(), "vggsim %s: missing argument\n", fs.Name())
		default:
			fmt.Fprintf(fs.Output(), "vggsim %s: too many arguments: %s\n", fs.Name(), strings.Join(pos, " "))
		}
		fs.Usage()
		return nil, exitUsage, false
	}
	return pos, exitOK, true
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
	fmt.Fprintf(stderr, "vggsim %s: %v\n", name, err)
	var ie inputError
	if errors.As(err, &ie) {
		return exitUsage
	}
	return exitFail
}
