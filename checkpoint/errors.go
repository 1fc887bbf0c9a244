package checkpoint

import (
	"errors"
	"fmt"
	"io/fs"
)

// A FormatError reports a checkpoint file whose content is malformed or unsupported: not a
// zip, a truncated archive, a pickle of the wrong kind, an unknown dtype, a corrupt
// safetensors header, and so on. Errors about the file itself (missing, unreadable) are
// returned as the underlying fs errors, wrapped with the file name.
type FormatError struct {
	Path string // the file, or the name given to LoadBytes
	Msg  string // one lowercase line, without the path
}

// Error formats the problem as "path: message".
func (e *FormatError) Error() string { return e.Path + ": " + e.Msg }

// msgError is an error whose text becomes a FormatError's Msg once the file is known.
type msgError string

func (e msgError) Error() string { return string(e) }

func errorf(format string, args ...any) error { return msgError(fmt.Sprintf(format, args...)) }

// named attaches path to err: message errors become *FormatError, file-system errors are
// wrapped as "path: problem" (keeping errors.Is(err, fs.ErrNotExist) working), and errors
// that already name the file pass through.
func named(path string, err error) error {
	if err == nil {
		return nil
	}
	var fe *FormatError
	if errors.As(err, &fe) {
		return err
	}
	var me msgError
	if errors.As(err, &me) {
		return &FormatError{Path: path, Msg: string(me)}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", path, pe.Err)
	}
	return fmt.Errorf("%s: %w", path, err)
}
