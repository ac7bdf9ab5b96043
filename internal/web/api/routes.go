package api

import (
	_ "embed"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/auth"
)

// openapiDoc describes every HTTP endpoint Parley serves, not only this
// package's; a test compares it with the routes a real server registers.
//
//go:embed openapi.json
var openapiDoc []byte

// prefix is where the API's routes are mounted.
const prefix = "/api/v1"

// route is one API route: the scope it needs ("" for none) and whether it
// creates something, and so honours Idempotency-Key (a test sends a bad key
// to every POST served and expects the refusal).
type route struct {
	method, path string
	scope        auth.Scope
	creates      bool
	handler      func(*Handlers, echo.Context) error
}

// apiRoutes declares the API; routes mounts it and Scopes is read from it.
// Measurement's routes are declared beside their handlers.
var apiRoutes = slices.Concat(coreRoutes, analyticsRoutes, webhookRoutes, auditRoutes)

// coreRoutes are the conversation, contact, campaign and trigger routes.
var coreRoutes = []route{
	{http.MethodGet, "/me", "", false, (*Handlers).me},
	{http.MethodGet, "/contacts", auth.ContactsRead, false, (*Handlers).listContacts},
	{http.MethodPut, "/contacts", auth.ContactsWrite, false, (*Handlers).putContact},
	{http.MethodGet, "/consent", auth.ContactsRead, false, (*Handlers).getConsent},
	{http.MethodPost, "/contacts/import", auth.ContactsWrite, true, (*Handlers).importContacts},
	{http.MethodGet, "/contacts/import/:id", auth.ContactsRead, false, (*Handlers).getImport},
	{http.MethodGet, "/contacts/export", auth.ContactsRead, false, (*Handlers).exportContacts},
	{http.MethodGet, "/consent/export", auth.ContactsRead, false, (*Handlers).exportConsent},
	{http.MethodGet, "/conversations", auth.ConversationsRead, false, (*Handlers).listConversations},
	{http.MethodGet, "/conversations/:id/messages", auth.ConversationsRead, false, (*Handlers).conversationMessages},
	{http.MethodPost, "/messages", auth.MessagesSend, true, (*Handlers).sendMessage},
	{http.MethodGet, "/messages/:id", auth.ConversationsRead, false, (*Handlers).getMessage},
	{http.MethodGet, "/brands/:slug/settings", "", false, (*Handlers).getSettings},
	{http.MethodPut, "/brands/:slug/settings", auth.SettingsWrite, false, (*Handlers).putSettings},
	{http.MethodGet, "/brands/:slug/auto-replies", "", false, (*Handlers).listAutoReplies},
	{http.MethodPost, "/brands/:slug/auto-replies", auth.SettingsWrite, true, (*Handlers).createAutoReply},
	{http.MethodPut, "/brands/:slug/auto-replies/:id", auth.SettingsWrite, false, (*Handlers).updateAutoReply},
	{http.MethodDelete, "/brands/:slug/auto-replies/:id", auth.SettingsWrite, false, (*Handlers).deleteAutoReply},
	{http.MethodPost, "/campaigns", auth.CampaignsWrite, true, (*Handlers).createCampaign},
	{http.MethodGet, "/campaigns", "", false, (*Handlers).listCampaigns},
	{http.MethodGet, "/campaigns/:id", "", false, (*Handlers).getCampaign},
	{http.MethodPost, "/campaigns/:id/estimate", auth.CampaignsWrite, true, (*Handlers).estimateCampaign},
	{http.MethodPost, "/campaigns/:id/schedule", auth.CampaignsWrite, true, (*Handlers).scheduleCampaign},
	{http.MethodPost, "/campaigns/:id/pause", auth.CampaignsWrite, true, (*Handlers).pauseCampaign},
	{http.MethodPost, "/campaigns/:id/resume", auth.CampaignsWrite, true, (*Handlers).resumeCampaign},
	{http.MethodPost, "/campaigns/:id/cancel", auth.CampaignsWrite, true, (*Handlers).cancelCampaign},
	{http.MethodGet, "/campaigns/:id/recipients", auth.ContactsRead, false, (*Handlers).campaignRecipients},
	{http.MethodPost, "/campaigns/:id/preview", auth.ContactsRead, true, (*Handlers).previewCampaign},
	{http.MethodPost, "/campaigns/:id/test", auth.CampaignsWrite, true, (*Handlers).testCampaign},
	{http.MethodPost, "/segments", auth.CampaignsWrite, true, (*Handlers).createSegment},
	{http.MethodGet, "/segments", "", false, (*Handlers).listSegments},
	{http.MethodGet, "/segments/:id", "", false, (*Handlers).getSegment},
	{http.MethodPost, "/events", auth.EventsWrite, true, (*Handlers).postEvent},
	{http.MethodPost, "/events\\:batch", auth.EventsWrite, true, (*Handlers).postEvents},
	{http.MethodPost, "/triggers", auth.TriggersWrite, true, (*Handlers).createTrigger},
	{http.MethodGet, "/triggers", auth.TriggersWrite, false, (*Handlers).listTriggers},
	{http.MethodGet, "/triggers/:id", auth.TriggersWrite, false, (*Handlers).getTrigger},
	{http.MethodPut, "/triggers/:id", auth.TriggersWrite, false, (*Handlers).updateTrigger},
	{http.MethodDelete, "/triggers/:id", auth.TriggersWrite, false, (*Handlers).deleteTrigger},
	{http.MethodGet, "/triggers/:id/runs", auth.TriggersWrite, false, (*Handlers).triggerRuns},
	{http.MethodPost, "/triggers/:id/test", auth.TriggersWrite, true, (*Handlers).testTrigger},
	{http.MethodGet, "/questions/:id/results", auth.AnalyticsRead, false, (*Handlers).questionResults},
	{http.MethodGet, "/contacts/:id/answers", auth.ContactsRead, false, (*Handlers).contactAnswers},
}

// Scopes maps each API route ("METHOD /api/v1/path") to the scope it needs
// ("" for none); a test walks it with keys lacking each.
var Scopes = func() map[string]auth.Scope {
	m := make(map[string]auth.Scope, len(apiRoutes))
	for _, r := range apiRoutes {
		m[r.method+" "+prefix+r.path] = r.scope
	}
	return m
}()

// routes mounts apiRoutes: writes are audited, then the scope check, then
// Idempotency-Key for the routes that create something.
func (h *Handlers) routes(g *echo.Group) {
	for _, r := range apiRoutes {
		var mw []echo.MiddlewareFunc
		if r.method != http.MethodGet {
			mw = append(mw, h.audited(r))
		}
		if r.scope != "" {
			mw = append(mw, need(r.scope))
		}
		if r.creates {
			mw = append(mw, h.idempotent)
		}
		g.Add(r.method, r.path, func(c echo.Context) error { return r.handler(h, c) }, mw...)
	}
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
