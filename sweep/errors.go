package sweep

import (
	"github.com/vggsim/vggsim/hw"
	"github.com/vggsim/vggsim/internal/suggest"
)

// A study file is strict YAML like a hardware file, and its problems are reported the same
// way: these are hw's positioned error types, so both readers print and sort alike.
type (
	// Pos is a position in a study file; Line and Col are 1-based, zero when unknown.
	Pos = hw.Pos
	// Error is one problem in a study file: its position, the study key ("axes.array.rows",
	// "constraints[1]"; "" for the file) and the message.
	Error = hw.Error
	// ErrorList is every problem found in one study file, in file order.
	ErrorList = hw.ErrorList
)

func didYouMean(name string, known []string) string {
	return suggest.DidYouMean(suggest.Nearest(name, known))
}
