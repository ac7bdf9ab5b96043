package auth

import (
	"slices"

	"github.com/parleyhq/parley/internal/store"
)

// Scope is one kind of thing an API key may do.
type Scope string

// The API's scopes. A key created without any has all of them.
const (
	ContactsRead      Scope = "contacts:read"
	ContactsWrite     Scope = "contacts:write"
	ConsentWrite      Scope = "consent:write"
	ConversationsRead Scope = "conversations:read"
	MessagesSend      Scope = "messages:send"
	CampaignsWrite    Scope = "campaigns:write"
	TriggersWrite     Scope = "triggers:write"
	EventsWrite       Scope = "events:write"
	AnalyticsRead     Scope = "analytics:read"
	AuditRead         Scope = "audit:read"
	SettingsWrite     Scope = "settings:write"
)

// Scopes lists every scope, in the order the documentation gives them.
var Scopes = []Scope{ContactsRead, ContactsWrite, ConsentWrite, ConversationsRead, MessagesSend,
	CampaignsWrite, TriggersWrite, EventsWrite, AnalyticsRead, AuditRead, SettingsWrite}

// KnownScope reports whether s names a scope.
func KnownScope(s string) bool { return slices.Contains(Scopes, Scope(s)) }

// KeyHasScope reports whether a key with access a may act with scope s.
func KeyHasScope(a store.KeyAccess, s Scope) bool {
	return a.AllScopes || slices.Contains(a.Scopes, string(s))
}

// KeyHasBrand reports whether a key with access a may touch brand id.
func KeyHasBrand(a store.KeyAccess, brandID int64) bool {
	return a.AllBrands || slices.Contains(a.BrandIDs, brandID)
}
