package unleashadmin

import (
	"context"
	"net/http"
	"strconv"
	"strings"
)

// ServerInfo is what an Unleash instance says about itself in its UI
// configuration: its version and its limits.
type ServerInfo struct {
	// Version is the server's version, such as "8.2.0".
	Version string
	// TokenLimit is how many API tokens the instance may hold
	// (resourceLimits.apiTokens, 2000 by default); 0 when the server does
	// not say: Unleash 5 has no limit. With secure token storage the
	// limit counts only the tokens made in that mode.
	TokenLimit int
	// SecureTokens is true when the server stores token secrets securely
	// (Unleash 8.1 and later with UNLEASH_EXPERIMENTAL_SECURE_TOKEN; read
	// from flags.secureTokenStorage): lists then show selectors, not
	// secrets.
	SecureTokens bool
}

// uiConfig is the part of GET /api/admin/ui-config that ServerInfo reads.
type uiConfig struct {
	Version        string `json:"version"`
	ResourceLimits struct {
		APITokens int `json:"apiTokens"`
	} `json:"resourceLimits"`
	Flags struct {
		SecureTokenStorage bool `json:"secureTokenStorage"`
	} `json:"flags"`
}

// missing names what a decoded ui-config lacks: every version sends one.
func (u *uiConfig) missing() string {
	if u.Version == "" {
		return `no "version"`
	}
	return ""
}

// ServerInfo reads the server's version and token limit from its UI
// configuration (GET /api/admin/ui-config), which every Unleash since 4.x
// serves to an admin key.
//
// Unleash API docs: https://docs.getunleash.io/api/get-ui-config
func (c *Client) ServerInfo(ctx context.Context) (*ServerInfo, error) {
	var cfg uiConfig
	if err := c.do(ctx, http.MethodGet, route("/api/admin/ui-config"), nil, &cfg); err != nil {
		return nil, err
	}
	return &ServerInfo{Version: cfg.Version, TokenLimit: cfg.ResourceLimits.APITokens, SecureTokens: cfg.Flags.SecureTokenStorage}, nil
}

// AtLeast reports whether the server's version is major.minor or later. A
// version that does not parse counts as the newest, so that a development
// build is not mistaken for an old release.
func (s ServerInfo) AtLeast(major, minor int) bool {
	m, n, ok := parseVersion(s.Version)
	if !ok {
		return true
	}
	return m > major || m == major && n >= minor
}

// DefaultEnvironment is the environment a token gets when its create
// request names none: "development" since Unleash 7, "default" before.
func (s ServerInfo) DefaultEnvironment() string {
	if s.AtLeast(7, 0) {
		return "development"
	}
	return "default"
}

// HasBackendType reports whether the server knows the backend token type,
// which came with Unleash 7.1; older servers know client and frontend.
func (s ServerInfo) HasBackendType() bool { return s.AtLeast(7, 1) }

// parseVersion reads the major and minor number of a version such as
// "8.2.0" or "v6.10.1-beta.1".
func parseVersion(v string) (major, minor int, ok bool) {
	parts := strings.SplitN(strings.TrimPrefix(strings.TrimSpace(v), "v"), ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return major, minor, true
}
