package api

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/auth"
)

// openapiDoc describes every HTTP endpoint Parley serves, not only this
// package's; a test compares it with the routes a real server registers.
//
//go:embed openapi.json
var openapiDoc []byte

// Scopes maps each API route ("METHOD /path") to the scope it needs ("" for
// none), as routes declares it; a test walks it with keys lacking each.
var Scopes = map[string]auth.Scope{
	"GET /api/v1/me": "", "GET /api/v1/contacts": auth.ContactsRead, "PUT /api/v1/contacts": auth.ContactsWrite,
	"GET /api/v1/consent": auth.ContactsRead, "GET /api/v1/conversations": auth.ConversationsRead,
	"GET /api/v1/conversations/:id/messages": auth.ConversationsRead, "POST /api/v1/messages": auth.MessagesSend,
	"GET /api/v1/messages/:id": auth.ConversationsRead,
}

// routes declares the API. Every route states its scope (need); every POST that creates something takes
// h.idempotent, so that it honours Idempotency-Key (a test sends a bad key to
// every POST served and expects the refusal).
func (h *Handlers) routes(g *echo.Group) {
	g.GET("/me", h.me)
	g.GET("/contacts", h.listContacts, need(auth.ContactsRead))
	g.PUT("/contacts", h.putContact, need(auth.ContactsWrite))
	g.GET("/consent", h.getConsent, need(auth.ContactsRead))
	g.GET("/conversations", h.listConversations, need(auth.ConversationsRead))
	g.GET("/conversations/:id/messages", h.conversationMessages, need(auth.ConversationsRead))
	g.POST("/messages", h.sendMessage, need(auth.MessagesSend), h.idempotent)
	g.GET("/messages/:id", h.getMessage, need(auth.ConversationsRead))
}

// openapi: GET /api/v1/openapi.json, served without a key so that tools can
// fetch it.
func (h *Handlers) openapi(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/json", openapiDoc)
}

// me: GET /api/v1/me — the request's key: its name, brands and scopes.
func (h *Handlers) me(c echo.Context) error {
	k := apiKey(c)
	brands := []string{}
	if k.AllBrands || len(k.BrandIDs) > 0 {
		all, err := h.st.Brands(c.Request().Context())
		if err != nil {
			return h.internal(c, err)
		}
		for _, b := range all {
			if auth.KeyHasBrand(k.KeyAccess, b.ID) {
				brands = append(brands, b.Slug)
			}
		}
	}
	scopes := []string{}
	for _, s := range auth.Scopes {
		if auth.KeyHasScope(k.KeyAccess, s) {
			scopes = append(scopes, string(s))
		}
	}
	return ok(c, http.StatusOK, map[string]any{"name": k.Name, "prefix": k.Prefix, "all_brands": k.AllBrands, "brands": brands,
		"all_scopes": k.AllScopes, "scopes": scopes, "rate": k.Rate})
}
