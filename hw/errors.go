package hw

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Pos is a position in a hardware description file. Line and Col are 1-based; zero means
// unknown, as for a Config built in Go and checked with [Config.Validate].
type Pos struct {
	Filename  string
	Line, Col int
}

// IsValid reports whether the position has a line number.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String formats the position as file:line:col, leaving out the parts that are unknown.
// It returns "" when nothing is known.
func (p Pos) String() string {
	s := p.Filename
	if p.IsValid() {
		if s != "" {
			s += ":"
		}
		s += fmt.Sprint(p.Line)
		if p.Col > 0 {
			s += fmt.Sprintf(":%d", p.Col)
		}
	}
	return s
}

// Error is one problem found in a hardware description: where, in which field, and what.
type Error struct {
	Pos   Pos    // where the offending value (or, for a missing field, its parent) starts
	Field string // dotted YAML path such as "sram.ifmap"; "" for the file as a whole
	Msg   string // lowercase, no position, no field
}

// Error formats the problem as "file:line:col: field.path: message".
func (e *Error) Error() string {
	var b strings.Builder
	if s := e.Pos.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in one hardware description, in file order.
// Parse, Load and Config.Validate return it (as an error) so that callers can show all
// problems at once; errors.As reaches the individual *Error values too.
type ErrorList []*Error

// Error joins the problems, one per line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems as a slice of errors, for errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// Err returns nil when the list is empty and the list itself otherwise, so that a function
// can end with `return errs.Err()` without returning a non-nil error holding nothing.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Sort orders the problems by file, line, column and then field, keeping the order of
// problems reported at the same place.
func (l ErrorList) Sort() {
	slices.SortStableFunc(l, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(a.Pos.Filename, b.Pos.Filename),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
			cmp.Compare(a.Field, b.Field),
		)
	})
}

// add appends one problem.
func (l *ErrorList) add(pos Pos, field, format string, args ...any) {
	*l = append(*l, &Error{Pos: pos, Field: field, Msg: fmt.Sprintf(format, args...)})
}
