// Package atomicfile writes files so that a failure never destroys what was there: the
// content goes to a temporary file in the destination's directory, is flushed to disk
// (fsync) and only then renamed over the destination. A reader sees the old file or the
// whole new one, never a truncated mix, whether the write fails for a full disk, a file
// size limit (ulimit -f), a killed process or an error in the caller's encoder.
//
// [WriteFiles] extends this to a set of files in one directory (a run's reports): every
// file is written and synced first, and the renames happen only when all succeeded.
package atomicfile

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// DefaultPerm is the mode of a new file (before the umask), as os.Create gives.
const DefaultPerm fs.FileMode = 0o666

// Write creates or replaces path with what fill writes. An existing file keeps its mode;
// a new one gets DefaultPerm less the umask. On any error (from fill or the file system)
// path is untouched and the temporary file removed. Errors are the underlying fs errors
// with path named once.
func Write(path string, fill func(w io.Writer) error) error {
	t, err := create(path, DefaultPerm)
	if err != nil {
		return err
	}
	if err := t.fill(fill); err != nil {
		return err
	}
	return t.commit()
}

// WriteFile is Write for a byte slice.
func WriteFile(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFiles writes the files named by names (paths, usually in one directory) through
// fill, each to its own temporary file, and renames them into place only after every one
// was written and synced. On error none of the destinations has changed.
func WriteFiles(names []string, fill func(name string, w io.Writer) error) error {
	return WriteFilesPerm(names, nil, fill)
}

// WriteFilesPerm is WriteFiles with the mode of each new file (before the umask) given by
// perm (nil: DefaultPerm for all), e.g. 0o777 for executables. Existing files keep
// their mode.
func WriteFilesPerm(names []string, perm func(name string) fs.FileMode, fill func(name string, w io.Writer) error) error {
	temps := make([]*temp, 0, len(names))
	abort := func(err error) error {
		for _, t := range temps {
			t.discard()
		}
		return err
	}
	for _, name := range names {
		mode := DefaultPerm
		if perm != nil {
			mode = perm(name)
		}
		t, err := create(name, mode)
		if err != nil {
			return abort(err)
		}
		temps = append(temps, t)
		if err := t.fill(func(w io.Writer) error { return fill(name, w) }); err != nil {
			temps = temps[:len(temps)-1] // fill discarded it
			return abort(err)
		}
	}
	// Renames within a directory do not fail for lack of space; if one fails anyway the
	// files before it are already replaced.
	for i, t := range temps {
		if err := t.commit(); err != nil {
			temps = temps[i+1:]
			return abort(err)
		}
	}
	return nil
}

// temp is a written (or being written) temporary file and its destination.
type temp struct {
	path string
	f    *os.File
	mode fs.FileMode
	keep bool // path exists: keep its mode
}

func create(path string, perm fs.FileMode) (*temp, error) {
	t := &temp{path: path, mode: perm}
	if st, err := os.Stat(path); err == nil {
		if st.IsDir() {
			return nil, &fs.PathError{Op: "write", Path: path, Err: errors.New("is a directory")}
		}
		t.mode, t.keep = st.Mode().Perm(), true
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, named(path, err)
	}
	t.f = f
	return t, nil
}

// fill writes the content and syncs it; on error the temporary file is removed.
func (t *temp) fill(fill func(w io.Writer) error) error {
	w := bufio.NewWriterSize(t.f, 1<<20)
	err := fill(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = t.f.Sync()
	}
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		mode := t.mode
		if !t.keep {
			mode = t.mode &^ umask()
		}
		err = os.Chmod(t.f.Name(), mode)
	}
	if err != nil {
		os.Remove(t.f.Name())
		return named(t.path, err)
	}
	return nil
}

// commit renames the temporary file over the destination and syncs the directory.
func (t *temp) commit() error {
	if err := os.Rename(t.f.Name(), t.path); err != nil {
		os.Remove(t.f.Name())
		return named(t.path, err)
	}
	if d, err := os.Open(filepath.Dir(t.path)); err == nil {
		d.Sync() // best effort: not every file system syncs directories
		d.Close()
	}
	return nil
}

func (t *temp) discard() {
	t.f.Close()
	os.Remove(t.f.Name())
}

// named returns err as a *fs.PathError on path, unwrapping the temporary file's name.
func named(path string, err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return &fs.PathError{Op: "write", Path: path, Err: err}
}
