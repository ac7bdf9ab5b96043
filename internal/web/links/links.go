// Package links serves the tracked links of campaign texts: GET /l/{code}
// counts the click and redirects (302) to the campaign's address.
package links

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/campaign"
)

// Handlers serve /l/{code}.
type Handlers struct {
	Campaigns *campaign.Service
	Log       *slog.Logger
}

// Register mounts the route.
func (h *Handlers) Register(e *echo.Echo) {
	e.GET("/l/:code", h.follow)
}

// follow: GET /l/{code} — 302 to the link's address, the click counted; an
// unknown code is 404 (codes are 72 random bits: not guessable).
func (h *Handlers) follow(c echo.Context) error {
	u, err := h.Campaigns.Click(c.Request().Context(), c.Param("code"))
	if errors.Is(err, campaign.ErrNotFound) {
		return c.String(http.StatusNotFound, "This link is not known.")
	}
	if err != nil {
		h.Log.Error("links: click not recorded", "err", err)
		return c.String(http.StatusServiceUnavailable, "Please try again in a moment.")
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	return c.Redirect(http.StatusFound, u)
}
