package desired

import "time"

// The tests of package desired_test do not wait seconds for sweep's second
// look.
func init() { sweepRecheck = 10 * time.Millisecond }
