package unleashadmin

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// echoBenchBodies are texts the echo check meets on the path of an error:
// Unleash's own error bodies, a proxy's page, and texts that make it take
// its slow path (escapes) or find an echo.
var echoBenchBodies = []struct {
	name string
	body string
}{
	// Unleash 8.2.0's 404 for a project (capture 341-proj-delete-again).
	{"unleash-404", `{"id":"3c0f2e0a-5a4c-4a3e-9c53-1d0e1e2f7a11","name":"NotFoundError","message":"No project found","details":[{"message":"No project found"}]}`},
	// A proxy's HTML page of about 4 KiB.
	{"proxy-html-4k", strings.Repeat(`<div class="error"><p>502 Bad Gateway: upstream 10.0.3.17:4242 did not answer in time (request 5d1e9a0c7b2f).</p></div>`+"\n", 36)},
	// JSON escapes without a credential: the slow path.
	{"escaped", `{"message":"the path \u002fapi\u002fadmin\u002fapi-tokens is not available","details":[{"message":"caf\u00e9 \u0026 more"}]}`},
	// An echo of the key: found, then cleaned.
	{"echoed", `{"message":"unknown key ` + testKey + `"}`},
}

// BenchmarkEcho measures the echo check and the cleaning of one text, with
// the key's set and the set of a secret the request carried (a delete's).
// A text without a credential must cost no allocation.
func BenchmarkEcho(b *testing.B) {
	sets := []*credSet{newCredSet(testKey), newCredSet(secretA)}
	for _, tc := range echoBenchBodies {
		b.Run(tc.name+"/check", func(b *testing.B) {
			body := []byte(tc.body)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				echoedIn(sets, body)
			}
		})
		b.Run(tc.name+"/clean", func(b *testing.B) {
			b.SetBytes(int64(len(tc.body)))
			b.ReportAllocs()
			for b.Loop() {
				clean(sets, tc.body)
			}
		})
	}
}

// BenchmarkEchoManySecrets builds the credential set of a ValidateTokens
// batch (250 secrets, what one request carries) and checks a proxy's 4 KiB
// page against it: the cost of an error of that call.
func BenchmarkEchoManySecrets(b *testing.B) {
	secrets := make([]string, maxValidateBatch)
	for i := range secrets {
		sum := sha256.Sum256([]byte{byte(i), byte(i >> 8)})
		secrets[i] = "default:development." + hex.EncodeToString(sum[:28])
	}
	body := []byte(echoBenchBodies[1].body)
	b.Run("build", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			newCredSet(secrets...)
		}
	})
	sets := []*credSet{newCredSet(testKey), newCredSet(secrets...)}
	b.Run("check-4k", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			echoedIn(sets, body)
		}
	})
}
