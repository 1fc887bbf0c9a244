//go:build !unix

package sweep

import "time"

// cpuTime returns 0 where the process's CPU time is not available; the benchmark then
// reports no per-CPU-second rate.
func cpuTime() time.Duration { return 0 }
