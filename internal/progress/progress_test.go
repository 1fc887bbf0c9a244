package progress

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is a bytes.Buffer safe for the Bar's drawing goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	b := Start(&buf, "vggsim x")
	assert.Nil(t, b, "a buffer is not a terminal")
	b.Stage("work") // a nil Bar does nothing
	b.Count(1, 2)
	b.Draw()
	b.Stop()
	assert.Empty(t, buf.String())
	assert.Empty(t, b.Line())

	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer null.Close()
	assert.False(t, IsTerminal(null), "/dev/null is a character device, not a terminal")
	f, err := os.CreateTemp(t.TempDir(), "x")
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, IsTerminal(f))
	assert.False(t, IsTerminal(nil))
}

func TestLine(t *testing.T) {
	var buf syncBuffer
	clock := time.Unix(100, 0)
	b := &Bar{w: &buf, label: "vggsim quant", now: func() time.Time { return clock }, stop: make(chan struct{})}
	b.begin = clock
	assert.Equal(t, "vggsim quant: 0s", b.Line())
	b.Stage("measuring layers")
	b.Count(12, 48)
	clock = clock.Add(3140 * time.Millisecond)
	assert.Equal(t, "vggsim quant: measuring layers 12/48 (25%) 3.1s", b.Line())
	b.Count(7, 0)
	assert.Equal(t, "vggsim quant: measuring layers 7 3.1s", b.Line())
	b.Stage("writing")
	assert.Equal(t, "vggsim quant: writing 3.1s", b.Line())
	b.Draw()
	assert.Equal(t, "\rvggsim quant: writing 3.1s\x1b[K", buf.String())
	b.Stop()
	assert.True(t, strings.HasSuffix(buf.String(), "\r\x1b[K"), "the line is erased")
}

func TestStartOnRedrawsAndErases(t *testing.T) {
	var buf syncBuffer
	b := StartOn(&buf, "vggsim fuse")
	b.Stage("fusing")
	time.Sleep(3 * Interval)
	b.Stop()
	b.Stop()
	out := buf.String()
	assert.Contains(t, out, "\rvggsim fuse: fusing ")
	assert.True(t, strings.HasSuffix(out, "\r\x1b[K"), "%q", out)
	assert.Equal(t, 1, strings.Count(out, "\r\x1b[K"), "erased once: %q", out)
}

func TestThrough(t *testing.T) {
	var buf syncBuffer
	var nilBar *Bar
	assert.Equal(t, &buf, nilBar.Through(&buf), "a nil Bar passes the writer through")

	b := &Bar{w: &buf, label: "vggsim x", now: time.Now, stop: make(chan struct{})}
	b.begin = b.now()
	w := b.Through(&buf)
	w.Write([]byte("before any drawing\n"))
	assert.Equal(t, "before any drawing\n", buf.String())
	b.Draw()
	w.Write([]byte("vggsim: a notice\n"))
	out := buf.String()
	assert.True(t, strings.HasSuffix(out, "\x1b[K\r\x1b[Kvggsim: a notice\n"), "the line is erased before the notice: %q", out)
	b.Stop()
	assert.Equal(t, out, buf.String(), "nothing left to erase")
}
