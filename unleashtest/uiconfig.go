package unleashtest

import "net/http"

// GET /api/admin/ui-config: what the Unleash UI reads about the instance
// at start, and what programs read the version and the token limit from.

// uiConfig sends the UI configuration as Unleash 8.2.0 does in its open
// source edition, with the Server's version (WithVersion), token limit
// (WithTokenLimit) and URL. Of the feature flags only secureTokenStorage is
// sent, which tells the token storage mode; the real server sends some
// ninety more.
func (s *Server) uiConfig(w http.ResponseWriter) {
	v := s.cfg.version
	limit := max(s.cfg.tokenLimit, 0) // Unleash reads a negative limit as 0
	writeJSON(w, http.StatusOK, jsonObject{
		{"environment", "Open Source"},
		{"flags", jsonObject{{"secureTokenStorage", s.cfg.secure}}},
		{"version", v},
		{"emailEnabled", false},
		{"unleashUrl", s.url},
		{"baseUriPath", ""},
		{"authenticationType", "open-source"},
		{"frontendApiOrigins", []string{"*"}},
		{"versionInfo", jsonObject{
			{"current", jsonObject{{"oss", v}, {"enterprise", ""}}},
			{"latest", jsonObject{}},
			{"isLatest", true},
			{"instanceId", s.instanceID},
		}},
		{"prometheusAPIAvailable", false},
		{"impactMetrics", "disabled"},
		{"resourceLimits", jsonObject{
			{"segmentValues", 1000},
			{"strategySegments", 5},
			{"signalEndpoints", 5},
			{"actionSetActions", 10},
			{"actionSetsPerProject", 5},
			{"actionSetFilters", 5},
			{"actionSetFilterValues", 25},
			{"signalTokensPerEndpoint", 5},
			{"featureEnvironmentStrategies", 30},
			{"constraintValues", 250},
			{"constraints", 30},
			{"environments", 50},
			{"projects", 500},
			{"apiTokens", limit},
			{"segments", 300},
			{"featureFlags", 5000},
			{"releaseTemplates", 10},
		}},
		{"disablePasswordAuth", false},
		{"maintenanceMode", false},
		{"maxSessionsCount", 0},
		{"unleashContext", jsonObject{}},
		{"storiesPageEnabled", false},
	})
}
