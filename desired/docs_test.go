package desired_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// TestDocsExampleFile keeps the example file of docs/DESIRED.md valid: it
// parses, plans and applies on a stand-in, and the second plan is empty.
func TestDocsExampleFile(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/DESIRED.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no yaml block in docs/DESIRED.md")
	}
	f := newFixture(t, unleashtest.WithProjects("default", "payments"))
	file := f.parse(block)
	if len(file.Tokens) != 3 || file.Prune.NamePrefix != "svc-" {
		t.Fatalf("%+v", file)
	}
	p := f.plan(file, f.opts())
	mustEqual(t, "plan", summary(p), []string{"create checkout", "create storefront", "create batch-jobs"})
	if _, err := p.Apply(context.Background(), desired.ApplyOptions{Sink: &recorder{}}); err != nil {
		t.Fatal(err)
	}
	if p := f.plan(file, f.opts()); !p.Empty() {
		t.Fatalf("second plan: %v", p)
	}
}
