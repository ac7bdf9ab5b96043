package console

import (
	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/admin"
)

// adminBrandCreate: POST /admin/brands — a new brand (slug, name, timezone,
// help_text, sla_minutes).
func (h *Handlers) adminBrandCreate(c echo.Context) error {
	_, err := admin.CreateBrand(c.Request().Context(), h.Store, admin.BrandForm{
		Slug: c.FormValue("slug"), Name: c.FormValue("name"), Timezone: c.FormValue("timezone"), Country: c.FormValue("default_country"),
		HelpText: c.FormValue("help_text"), SLAMinutes: c.FormValue("sla_minutes"),
	})
	if err != nil {
		return h.adminFail(c, "admin_brands", h.adminBrandsData, err)
	}
	return adminDone(c, "/admin/brands", "brand_created")
}
