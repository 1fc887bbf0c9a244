package sweep

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Progress reports a run's advance on a writer (stderr): on a terminal a bar redrawn in
// place with the rate and the time left; otherwise a plain line every Interval.
type Progress struct {
	W        io.Writer
	TTY      bool
	Interval time.Duration // between plain lines; 0 means 5 s (a terminal redraws every 100 ms)

	mu          sync.Mutex
	total, skip int
	done        int
	begin, last time.Time
	stop        chan struct{}
	wg          sync.WaitGroup
	now         func() time.Time
}

func (p *Progress) clock() time.Time {
	if p.now != nil {
		return p.now()
	}
	return time.Now()
}

func (p *Progress) start(todo, selected int) {
	p.mu.Lock()
	p.total, p.skip, p.done = todo, selected-todo, 0
	p.begin = p.clock()
	p.last = p.begin
	p.stop = make(chan struct{})
	p.mu.Unlock()
	if p.skip > 0 {
		fmt.Fprintf(p.W, "sweep: resuming: %d of %d points already done\n", p.skip, selected)
	}
	every := p.Interval
	if every <= 0 {
		every = 5 * time.Second
	}
	if p.TTY {
		every = 100 * time.Millisecond
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
				p.mu.Lock()
				p.draw(false)
				p.mu.Unlock()
			}
		}
	}()
}

func (p *Progress) set(done int) {
	p.mu.Lock()
	p.done = done
	p.mu.Unlock()
}

func (p *Progress) finish() {
	close(p.stop)
	p.wg.Wait()
	p.mu.Lock()
	p.draw(true)
	p.mu.Unlock()
}

// Line formats the state: "1234/10000 points (12.3%)  5678 points/s  ETA 2s".
func progressLine(done, total int, elapsed time.Duration) string {
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	s := fmt.Sprintf("%d/%d points (%.1f%%)", done, total, pct)
	if secs := elapsed.Seconds(); secs > 0 && done > 0 {
		rate := float64(done) / secs
		s += fmt.Sprintf("  %.0f points/s", rate)
		if done < total {
			eta := time.Duration(float64(total-done) / rate * float64(time.Second))
			s += "  ETA " + eta.Round(100*time.Millisecond).String()
		} else {
			s += "  in " + elapsed.Round(time.Millisecond).String()
		}
	}
	return s
}

func (p *Progress) draw(final bool) {
	el := p.clock().Sub(p.begin)
	line := progressLine(p.done, p.total, el)
	if !p.TTY {
		fmt.Fprintf(p.W, "sweep: %s\n", line)
		return
	}
	const width = 30
	fill := width
	if p.total > 0 {
		fill = width * p.done / p.total
	}
	bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
	end := ""
	if final {
		end = "\n"
	}
	fmt.Fprintf(p.W, "\r[%s] %s\x1b[K%s", bar, line, end)
}
