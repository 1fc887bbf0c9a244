package kern

import (
	"bytes"
	"fmt"
	"os/exec"
)

// runCmd runs a built harness and returns its stderr in the error when it fails.
func runCmd(exe string, args ...string) error {
	var stderr bytes.Buffer
	cmd := exec.Command(exe, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("kern: %s: %v\n%s", exe, err, stderr.String())
	}
	return nil
}
