// Package progress shows a long command's advance on one terminal line of stderr: the
// command, the current stage, a count when one is known, and the time so far, redrawn in
// place ten times a second and erased when the work ends.
//
// Progress is for people watching a terminal: when the writer is not a terminal (a pipe,
// a file, a test's buffer) Start returns nil, and every method of a nil *Bar does nothing,
// so callers never check. Nothing is ever drawn on stdout.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Bar is one command's progress line. The zero value is not usable; use Start or StartOn.
// A nil *Bar is valid: its methods do nothing.
type Bar struct {
	w     io.Writer
	label string
	now   func() time.Time

	mu          sync.Mutex
	stage       string
	done, total int
	begin       time.Time
	drawn       bool
	stop        chan struct{}
	wg          sync.WaitGroup
}

// Interval is the time between redraws.
const Interval = 100 * time.Millisecond

// Start returns a Bar drawing on w under label (e.g. "vggsim quant") when w is a terminal,
// and nil otherwise.
func Start(w io.Writer, label string) *Bar {
	if !IsTerminal(w) {
		return nil
	}
	return StartOn(w, label)
}

// StartOn returns a Bar drawing on w whatever w is (for callers that decided themselves,
// and for tests).
func StartOn(w io.Writer, label string) *Bar {
	b := &Bar{w: w, label: label, now: time.Now, stop: make(chan struct{})}
	b.begin = b.now()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		t := time.NewTicker(Interval)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				b.Draw()
			}
		}
	}()
	return b
}

// Stage names what the command is doing now ("fusing", "compiling with clang") and
// clears the count.
func (b *Bar) Stage(what string) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.stage, b.done, b.total = what, 0, 0
	b.mu.Unlock()
}

// Count sets how far the stage is: done of total items (total 0: unknown). It is safe
// for concurrent use and cheap enough to call per item.
func (b *Bar) Count(done, total int) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.done, b.total = done, total
	b.mu.Unlock()
}

// Set sets the stage and its count at once (for callbacks that report both).
func (b *Bar) Set(stage string, done, total int) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.stage, b.done, b.total = stage, done, total
	b.mu.Unlock()
}

// Line formats the current state without drawing it: "vggsim quant: measuring layers
// 12/48 (25%) 3.1s".
func (b *Bar) Line() string {
	if b == nil {
		return ""
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.line()
}

func (b *Bar) line() string {
	s := b.label + ":"
	if b.stage != "" {
		s += " " + b.stage
	}
	if b.total > 0 {
		s += fmt.Sprintf(" %d/%d (%d%%)", b.done, b.total, 100*b.done/b.total)
	} else if b.done > 0 {
		s += fmt.Sprintf(" %d", b.done)
	}
	return s + " " + b.now().Sub(b.begin).Round(100*time.Millisecond).String()
}

// Draw redraws the line now (the Bar also does so every Interval); after Stop it does
// nothing.
func (b *Bar) Draw() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-b.stop:
		return
	default:
	}
	fmt.Fprintf(b.w, "\r%s\x1b[K", b.line())
	b.drawn = true
}

// Stop ends the Bar and erases its line, leaving the terminal as it was for the command's
// own messages. Stop is idempotent.
func (b *Bar) Stop() {
	if b == nil {
		return
	}
	b.mu.Lock()
	select {
	case <-b.stop:
		b.mu.Unlock()
		return
	default:
	}
	close(b.stop)
	b.mu.Unlock()
	b.wg.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		io.WriteString(b.w, "\r\x1b[K")
		b.drawn = false
	}
}

// Through returns a writer for other messages to the Bar's terminal (stderr): each write
// first erases the progress line, which the next redraw brings back below the message. A
// nil Bar returns w itself.
func (b *Bar) Through(w io.Writer) io.Writer {
	if b == nil {
		return w
	}
	return through{b, w}
}

type through struct {
	b *Bar
	w io.Writer
}

func (t through) Write(p []byte) (int, error) {
	t.b.mu.Lock()
	defer t.b.mu.Unlock()
	if t.b.drawn {
		io.WriteString(t.b.w, "\r\x1b[K")
		t.b.drawn = false
	}
	return t.w.Write(p)
}

// IsTerminal reports whether w is a terminal: an *os.File on a tty (not merely a
// character device such as /dev/null).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || f == nil {
		return false
	}
	return isTerminal(f)
}
