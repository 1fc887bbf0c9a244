package kern

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
)

// Clang returns the clang the kernels are compiled with: $VGGSIM_CLANG, else the newest
// clang-N on PATH (19 down to 14), else clang.
func Clang() (string, error) {
	if c := os.Getenv("VGGSIM_CLANG"); c != "" {
		return exec.LookPath(c)
	}
	for v := 19; v >= 14; v-- {
		if p, err := exec.LookPath("clang-" + strconv.Itoa(v)); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("clang"); err == nil {
		return p, nil
	}
	return "", errors.New("kern: no clang found (install clang-19: apt-get install clang-19, or set VGGSIM_CLANG)")
}

// CompileExe compiles sources (.ll and .c files) into the executable out with
// -O3 -march=native and pthreads; compiler output is returned verbatim in the error.
func CompileExe(out string, sources ...string) error {
	cc, err := Clang()
	if err != nil {
		return err
	}
	args := append([]string{"-O3", "-march=native", "-Wno-override-module", "-o", out}, sources...)
	args = append(args, "-lpthread", "-lm")
	var stderr bytes.Buffer
	cmd := exec.Command(cc, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kern: %s: %v\n%s", cc, err, stderr.String())
	}
	return nil
}
