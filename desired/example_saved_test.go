package desired_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
)

// A plan is made and written to a file (a CI job's artifact, reviewed on
// a pull request); later the same file is read and carried out as it is.
func ExamplePlan_Saved() {
	srv, c := exampleServer()
	defer srv.Close()
	ctx := context.Background()
	f, _ := desired.Parse([]byte(exampleFile))
	p, err := desired.NewPlan(ctx, c, f, desired.Options{})
	if err != nil {
		log.Fatal(err)
	}
	saved, err := p.Saved()
	if err != nil {
		log.Fatal(err)
	}
	data, err := json.MarshalIndent(saved, "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	dir, _ := os.MkdirTemp("", "plan")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		log.Fatal(err)
	}

	// Later, perhaps on another machine: the same file.
	read, err := desired.LoadPlan(path)
	if err != nil {
		log.Fatal(err) // errors.Is(err, desired.ErrInvalidPlanFile): changed by hand, cut short, ...
	}
	res, err := read.Apply(ctx, c, desired.ApplyOptions{Sink: discard})
	if err != nil {
		log.Fatal(err) // errors.Is(err, desired.ErrStalePlan): nothing was changed; plan again
	}
	for _, o := range res.Outcomes {
		fmt.Println(o.Status(), o.Action.Kind, o.Action.Name)
	}
	// Output:
	// done create checkout
	// done create web
}

func ExampleReadPlan() {
	_, err := desired.ReadPlan([]byte(`{"formatVersion": 2}`))
	fmt.Println(errors.Is(err, desired.ErrInvalidPlanFile), errors.Is(err, unleashadmin.ErrInvalidArgument))
	fmt.Println(err)
	// Output:
	// true true
	// desired: plan file: formatVersion 2 is newer than this version reads (1): apply it with the release that made it, or a newer one
}

// A token of one of the plan's names made after the plan: the plan is
// stale, and Apply changes nothing.
func ExampleSavedPlan_Apply() {
	srv, c := exampleServer()
	defer srv.Close()
	ctx := context.Background()
	f, _ := desired.Parse([]byte(exampleFile))
	p, _ := desired.NewPlan(ctx, c, f, desired.Options{})
	saved, _ := p.Saved()

	_, _ = c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeFrontend, TokenName: "web"})
	_, err := saved.Apply(ctx, c, desired.ApplyOptions{Sink: discard})
	fmt.Println(errors.Is(err, desired.ErrStalePlan))
	fmt.Println(err)
	// Output:
	// true
	// desired: the saved plan is stale, and nothing was changed: 1 token(s) of its names are new or changed: "web" (frontend in development for *, made 2026-03-01T12:00:00Z); make a new plan
}

func ExampleSavedPlan_Check() {
	srv, c := exampleServer()
	defer srv.Close()
	ctx := context.Background()
	f, _ := desired.Parse([]byte(exampleFile))
	p, _ := desired.NewPlan(ctx, c, f, desired.Options{Now: func() time.Time { return exampleNow }})
	saved, _ := p.Saved()
	fmt.Println(saved.BaseURL() == c.BaseURL(), saved.PlannedAt(), len(saved.File().Tokens))
	checked, err := saved.Check(ctx, c, desired.ApplyOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(checked)
	// Output:
	// true 2026-03-01 12:00:00 +0000 UTC 2
	// create checkout: no token named "checkout"
	// create web: no token named "web"
}
