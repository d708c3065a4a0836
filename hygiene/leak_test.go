package hygiene_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's run when a test leaves a goroutine behind:
// a delete worker of Prune, a response body never closed, a test server's
// handler.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
