package api

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openapiDoc describes every HTTP endpoint Parley serves, not only this
// package's; a test compares it with the routes a real server registers.
//
//go:embed openapi.json
var openapiDoc []byte

// routes declares the API. Every POST that creates something takes
// h.idempotent, so that it honours Idempotency-Key (a test sends a bad key to
// every POST served and expects the refusal).
func (h *Handlers) routes(g *echo.Group) {
	g.GET("/contacts", h.listContacts)
	g.PUT("/contacts", h.putContact)
	g.GET("/consent", h.getConsent)
	g.GET("/conversations", h.listConversations)
	g.GET("/conversations/:id/messages", h.conversationMessages)
	g.POST("/messages", h.sendMessage, h.idempotent)
	g.GET("/messages/:id", h.getMessage)
}

// openapi: GET /api/v1/openapi.json, served without a key so that tools can
// fetch it.
func (h *Handlers) openapi(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/json", openapiDoc)
}
