// Package connect gives the example programs their Client: for the Unleash
// named by UNLEASH_URL and UNLEASH_API_TOKEN, or, when those are not set,
// for an in-process unleashtest server, so that every example runs out of the
// box.
package connect

import (
	"fmt"
	"os"

	"github.com/seed8b9e94f4/unleashadmin"
	"github.com/seed8b9e94f4/unleashadmin/unleashtest"
)

// Client returns a Client, a description of the server it talks to, and a
// function that releases the server (a no-op for a real one). UNLEASH_BEARER=1
// sends the key in the Bearer form.
func Client() (*unleashadmin.Client, string, func(), error) {
	url, key := os.Getenv("UNLEASH_URL"), os.Getenv("UNLEASH_API_TOKEN")
	done := func() {}
	where := "Unleash at " + url
	if url == "" || key == "" {
		srv := unleashtest.NewServer()
		url, key, done = srv.URL(), srv.AdminKey(), srv.Close
		where = "an in-process unleashtest server (set UNLEASH_URL and UNLEASH_API_TOKEN for a real one)"
	}
	var opts []unleashadmin.Option
	if os.Getenv("UNLEASH_BEARER") == "1" {
		opts = append(opts, unleashadmin.WithBearerAuth())
	}
	c, err := unleashadmin.NewClient(url, key, opts...)
	if err != nil {
		done()
		return nil, "", nil, fmt.Errorf("connecting: %w", err)
	}
	return c, where, done, nil
}
