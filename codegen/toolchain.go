package codegen

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// DefaultFlags are the optimization flags the toolchain compiles generated code with.
var DefaultFlags = []string{"-O3", "-march=native"}

// ErrNoClang is returned (wrapped) when no clang can be found.
var ErrNoClang = errors.New("no clang found")

// ClangEnv names the environment variable that overrides the clang search.
const ClangEnv = "VGGSIM_CLANG"

// newestClang and oldestClang bound the clang-N names searched on PATH, newest first.
const (
	newestClang = 30
	oldestClang = 14
)

// FindClang returns the clang to use: cc when given (a --cc flag), else $VGGSIM_CLANG,
// else the newest clang-N on PATH (N from 30 down to 14), else clang. A named compiler
// that does not exist is an error, not a reason to search further.
func FindClang(cc string) (string, error) {
	for _, c := range []struct{ name, from string }{{cc, "--cc"}, {os.Getenv(ClangEnv), ClangEnv}} {
		if c.name == "" {
			continue
		}
		p, err := exec.LookPath(c.name)
		if err != nil {
			return "", fmt.Errorf("%w: %s=%s is not an executable (%v); install clang (Debian: apt-get install clang-19)", ErrNoClang, c.from, c.name, errors.Unwrap(err))
		}
		return p, nil
	}
	for n := newestClang; n >= oldestClang; n-- {
		if p, err := exec.LookPath("clang-" + strconv.Itoa(n)); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("clang"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%w on PATH (tried clang-%d … clang-%d and clang); install it (Debian: apt-get install clang-19) or name one with --cc or %s", ErrNoClang, newestClang, oldestClang, ClangEnv)
}

// Toolchain compiles generated modules with clang and caches the results by content.
type Toolchain struct {
	CC      string   // the clang executable
	Version string   // its first --version line
	Flags   []string // optimization flags (DefaultFlags unless set)
	// CacheDir holds builds by content hash; empty means no cache.
	CacheDir string
}

// CacheEnv names the environment variable that overrides the build cache directory
// ("off" disables caching).
const CacheEnv = "VGGSIM_CACHE"

// DefaultCacheDir returns $VGGSIM_CACHE ("" when it is "off"), else <user cache
// dir>/vggsim/build ($XDG_CACHE_HOME or ~/.cache on Linux), or "" when there is none.
func DefaultCacheDir() string {
	if v := os.Getenv(CacheEnv); v != "" {
		if v == "off" {
			return ""
		}
		return v
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(d, "vggsim", "build")
}

// NewToolchain finds clang (see FindClang), asks its version, and uses DefaultFlags and
// DefaultCacheDir.
func NewToolchain(cc string) (*Toolchain, error) {
	path, err := FindClang(cc)
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("%w: %s --version failed: %v", ErrNoClang, path, err)
	}
	v, _, _ := strings.Cut(string(out), "\n")
	return &Toolchain{CC: path, Version: strings.TrimSpace(v), Flags: append([]string(nil), DefaultFlags...), CacheDir: DefaultCacheDir()}, nil
}

// Artifacts are the compiled forms of one module, in one directory.
type Artifacts struct {
	Dir    string // where they are
	Object string // the module compiled to a position-independent object
	Lib    string // shared library exporting the C ABI
	Exe    string // the standalone runner (see runtime/main.c)
	Cached bool   // whether they came from the cache
	// Temp reports a build outside the cache (caching off), in a temporary directory
	// that Remove deletes.
	Temp bool
}

// Remove deletes a temporary build (see Temp); a cached build is left alone.
func (a *Artifacts) Remove() error {
	if !a.Temp {
		return nil
	}
	return os.RemoveAll(a.Dir)
}

// CompileError is a clang failure: the command, clang's output verbatim, and the lines of
// the .ll it points at.
type CompileError struct {
	Cmd    string
	Output string
	Lines  []string // "model.ll:12: <text of line 12>"
}

func (e *CompileError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "clang failed: %s\n%s", e.Cmd, strings.TrimRight(e.Output, "\n"))
	for _, l := range e.Lines {
		b.WriteString("\n  " + l)
	}
	return b.String()
}

var llPos = regexp.MustCompile(`(?m)^([^:\s]+\.ll):(\d+):(\d+):`)

// Compile builds the object, shared library and runner of m, or takes them from the cache.
func (tc *Toolchain) Compile(m *Module) (*Artifacts, error) {
	mainC := runnerSource(m)
	h := sha256.New()
	fmt.Fprintf(h, "vggsim-build-v1\x00%s\x00%s\x00%s\x00", tc.CC, tc.Version, strings.Join(tc.Flags, " "))
	h.Write([]byte(m.LL))
	h.Write([]byte{0})
	h.Write([]byte(mainC))
	for _, c := range m.CSources {
		fmt.Fprintf(h, "\x00%s\x00%s", c.Name, c.Text)
	}
	key := hex.EncodeToString(h.Sum(nil))[:32]
	sym := m.Plan.Symbol
	names := func(dir string) *Artifacts {
		return &Artifacts{Dir: dir, Object: filepath.Join(dir, sym+".o"), Lib: filepath.Join(dir, "lib"+sym+".so"), Exe: filepath.Join(dir, sym)}
	}
	if tc.CacheDir != "" {
		a := names(filepath.Join(tc.CacheDir, key))
		if _, err := os.Stat(a.Exe); err == nil {
			a.Cached = true
			return a, nil
		}
		if err := os.MkdirAll(tc.CacheDir, 0o755); err != nil {
			return nil, err
		}
	}
	tmpParent := tc.CacheDir
	tmp, err := os.MkdirTemp(tmpParent, "build-")
	if err != nil {
		return nil, err
	}
	a := names(tmp)
	ll := filepath.Join(tmp, sym+".ll")
	cfile := filepath.Join(tmp, "main.c")
	if err := os.WriteFile(ll, []byte(m.LL), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(cfile, []byte(mainC), 0o644); err != nil {
		return nil, err
	}
	steps := [][]string{append(append([]string{}, tc.Flags...), "-fPIC", "-c", ll, "-o", a.Object)}
	objs := []string{a.Object}
	for _, c := range m.CSources {
		src := filepath.Join(tmp, c.Name)
		if err := os.WriteFile(src, []byte(c.Text), 0o644); err != nil {
			return nil, err
		}
		obj := strings.TrimSuffix(src, filepath.Ext(src)) + ".rt.o"
		steps = append(steps, append(append([]string{}, tc.Flags...), "-fPIC", "-pthread", "-c", src, "-o", obj))
		objs = append(objs, obj)
	}
	steps = append(steps,
		append(append(append(append([]string{}, tc.Flags...), "-std=c11", "-pthread", "-o", a.Exe, cfile), objs...), "-lm"),
		append(append([]string{"-shared", "-pthread", "-o", a.Lib}, objs...), "-lm"))
	for _, args := range steps {
		if err := tc.run(tmp, args, ll); err != nil {
			os.RemoveAll(tmp)
			return nil, err
		}
	}
	if tc.CacheDir == "" {
		a.Temp = true
		return a, nil
	}
	final := filepath.Join(tc.CacheDir, key)
	if err := os.Rename(tmp, final); err != nil {
		// Another process built the same key first: use theirs.
		os.RemoveAll(tmp)
		if _, serr := os.Stat(names(final).Exe); serr != nil {
			return nil, err
		}
	}
	return names(final), nil
}

// run runs clang with args in dir and turns a failure into a CompileError.
func (tc *Toolchain) run(dir string, args []string, ll string) error {
	cmd := exec.Command(tc.CC, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		ce := &CompileError{Cmd: tc.CC + " " + strings.Join(args, " "), Output: out.String()}
		if ce.Output == "" {
			ce.Output = err.Error()
		}
		text, _ := os.ReadFile(ll)
		lines := strings.Split(string(text), "\n")
		for _, mm := range llPos.FindAllStringSubmatch(ce.Output, 5) {
			if n, _ := strconv.Atoi(mm[2]); n >= 1 && n <= len(lines) {
				ce.Lines = append(ce.Lines, fmt.Sprintf("%s:%d: %s", filepath.Base(mm[1]), n, strings.TrimSpace(lines[n-1])))
			}
		}
		return ce
	}
	return nil
}
