// Package connect gives the example programs their Client: for the Unleash
// named by UNLEASH_URL and UNLEASH_API_TOKEN, or, when those are not set,
// for an in-process unleashtest server, so that every example runs out of the
// box.
package connect

import (
	"fmt"
	"net/url"
	"os"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// Conn is a Client and what an example says about the server behind it.
type Conn struct {
	Client *unleashadmin.Client
	// Where describes the server, without credentials.
	Where string
	// StandIn is true for the in-process server, which starts empty.
	StandIn bool
	// Close releases the in-process server; a no-op for a real one.
	Close func()
}

// Open connects as the environment says. UNLEASH_BEARER=1 sends the key in
// the Bearer form.
func Open() (*Conn, error) {
	base, key := os.Getenv("UNLEASH_URL"), os.Getenv("UNLEASH_API_TOKEN")
	conn := &Conn{Close: func() {}}
	if base == "" || key == "" {
		srv := unleashtest.NewServer()
		base, key = srv.URL(), srv.AdminKey()
		conn.StandIn, conn.Close = true, srv.Close
		conn.Where = "an in-process unleashtest server (set UNLEASH_URL and UNLEASH_API_TOKEN for a real one)"
	}
	var opts []unleashadmin.Option
	if os.Getenv("UNLEASH_BEARER") == "1" {
		opts = append(opts, unleashadmin.WithBearerAuth())
	}
	c, err := unleashadmin.NewClient(base, key, opts...)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("connecting: %w", err)
	}
	conn.Client = c
	if !conn.StandIn {
		// NewClient accepted the URL, so it parses; Redacted hides a
		// password in it.
		u, _ := url.Parse(base)
		conn.Where = "Unleash at " + u.Redacted()
	}
	return conn, nil
}
