package connect

import (
	"context"
	"strings"
	"testing"
)

func TestOpenStandIn(t *testing.T) {
	t.Setenv("UNLEASH_URL", "")
	t.Setenv("UNLEASH_API_TOKEN", "")
	conn, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if !conn.StandIn || !strings.Contains(conn.Where, "unleashtest") {
		t.Errorf("Open() = %+v, want the stand-in", conn)
	}
	if _, err := conn.Client.ListAPITokens(context.Background()); err != nil {
		t.Errorf("the stand-in does not answer: %v", err)
	}
}

// TestOpenRealHidesPassword: a URL with a password is refused without
// repeating it, a real server is described by its URL, and only the URL
// set alone still means the stand-in.
func TestOpenRealHidesPassword(t *testing.T) {
	t.Setenv("UNLEASH_URL", "https://bob:hunter2pass@unleash.example.com/unleash")
	t.Setenv("UNLEASH_API_TOKEN", "*:*.0123456789abcdef0123456789abcdef")
	if conn, err := Open(); err == nil || strings.Contains(err.Error(), "hunter2pass") {
		t.Errorf("Open() with a password in the URL = %+v, %v", conn, err)
	}

	t.Setenv("UNLEASH_URL", "https://unleash.example.com/unleash")
	conn, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if conn.StandIn || !strings.Contains(conn.Where, "unleash.example.com/unleash") {
		t.Errorf("Where = %q, StandIn = %t", conn.Where, conn.StandIn)
	}

	t.Setenv("UNLEASH_API_TOKEN", "")
	conn, err = Open()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if !conn.StandIn {
		t.Errorf("a URL without a key: StandIn = false")
	}
}
