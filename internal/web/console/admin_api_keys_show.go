package console

import (
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/admin"
	"github.com/parleyhq/parley/internal/auth"
)

// adminAPIKeysShow: GET /admin/api-keys — keys by name and prefix (never the
// key), their brands, scopes and rate, when created, last used, revoked; the
// create form.
func (h *Handlers) adminAPIKeysShow(c echo.Context) error {
	return h.showPage(c, "admin_api_keys", h.adminAPIKeysData)
}

// apiKeyRow is a key as the page lists it.
type apiKeyRow struct {
	ID                        int64
	Name, Prefix              string
	Brands, Scopes, CreatedAt string
	LastUsed, Revoked         string
	Rate                      int
}

func (h *Handlers) adminAPIKeysData(c echo.Context) (map[string]any, error) {
	ctx := c.Request().Context()
	keys, err := h.Store.APIKeys(ctx)
	if err != nil {
		return nil, err
	}
	brands, err := h.Store.Brands(ctx)
	if err != nil {
		return nil, err
	}
	slugs := map[int64]string{}
	for _, b := range brands {
		slugs[b.ID] = b.Slug
	}
	rows := make([]apiKeyRow, len(keys))
	for i, k := range keys {
		r := apiKeyRow{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Rate: k.Rate, CreatedAt: k.CreatedAt.Format("2006-01-02"),
			Brands: "all brands", Scopes: "every scope", LastUsed: "never"}
		if !k.AllBrands {
			var names []string
			for _, id := range k.BrandIDs {
				if s, ok := slugs[id]; ok {
					names = append(names, s)
				}
			}
			slices.Sort(names)
			r.Brands = strings.Join(names, ", ")
			if r.Brands == "" {
				r.Brands = "no brand"
			}
		}
		if !k.AllScopes {
			r.Scopes = strings.Join(k.Scopes, ", ")
		}
		if k.LastUsedAt != nil {
			r.LastUsed = k.LastUsedAt.Format("2006-01-02 15:04")
		}
		if k.RevokedAt != nil {
			r.Revoked = k.RevokedAt.Format("2006-01-02")
		}
		rows[i] = r
	}
	return map[string]any{"Keys": rows, "Brands": brands, "Scopes": auth.Scopes}, nil
}

// apiKeyForm reads the create form: name, brand (repeated slugs), scope
// (repeated), rate.
func apiKeyForm(c echo.Context) admin.APIKeyForm {
	form, _ := c.FormParams()
	return admin.APIKeyForm{Name: c.FormValue("name"), Brands: form["brand"], Scopes: form["scope"], Rate: c.FormValue("rate")}
}
