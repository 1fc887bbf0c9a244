package progress

import (
	"os"
	"syscall"
	"unsafe"
)

// isTerminal asks the tty driver (TCGETS), which only terminals answer.
func isTerminal(f *os.File) bool {
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}
