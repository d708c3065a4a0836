package desired_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/desired"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// FuzzReadPlan: ReadPlan never panics, refuses with ErrInvalidPlanFile
// only, and a plan it accepts is written again (json.Marshal) into a file
// it reads back the same.
func FuzzReadPlan(f *testing.F) {
	srv := unleashtest.NewServer(unleashtest.WithClock(func() time.Time { return exampleNow }))
	defer srv.Close()
	c, err := unleashadmin.NewClient(srv.URL(), srv.AdminKey())
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"rot", "dup", "dup", "moved", "svc-old"} {
		if _, err := c.CreateAPIToken(ctx, unleashadmin.CreateAPITokenRequest{Type: unleashadmin.TokenTypeClient, TokenName: name}); err != nil {
			f.Fatal(err)
		}
	}
	file, err := desired.Parse([]byte(savedFile))
	if err != nil {
		f.Fatal(err)
	}
	for _, opts := range []desired.Options{{}, {GracePeriod: time.Hour}, {Reader: desired.DirSink{Dir: f.TempDir()}}} {
		p, err := desired.NewPlan(ctx, c, file, opts)
		if err != nil {
			f.Fatal(err)
		}
		s, err := p.Saved()
		if err != nil {
			f.Fatal(err)
		}
		data, err := json.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"formatVersion": 1}`))
	f.Add([]byte(`{"formatVersion": 2, "checksum": "sha256:"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := desired.ReadPlan(data)
		if err != nil {
			if !errors.Is(err, desired.ErrInvalidPlanFile) || !errors.Is(err, unleashadmin.ErrInvalidArgument) {
				t.Fatalf("error %v is not ErrInvalidPlanFile", err)
			}
			return
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := desired.ReadPlan(again)
		if err != nil {
			t.Fatalf("written again, it is refused: %v", err)
		}
		third, err := json.Marshal(s2)
		if err != nil || !bytes.Equal(third, again) {
			t.Fatalf("written a third time: %v\n%s\n%s", err, third, again)
		}
	})
}
