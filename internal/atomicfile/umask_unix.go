//go:build unix

package atomicfile

import (
	"io/fs"
	"sync"
	"syscall"
)

var umaskOnce = sync.OnceValue(func() fs.FileMode {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return fs.FileMode(m)
})

// umask returns the process's file mode creation mask.
func umask() fs.FileMode { return umaskOnce() }
