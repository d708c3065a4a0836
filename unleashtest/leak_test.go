package unleashtest_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's run when a test leaves a goroutine behind:
// a Server never closed, a connection of a Listen server left open, a
// handler held by a fault.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
