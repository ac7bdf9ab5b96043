package console

import (
	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/admin"
)

// adminBrandUpdate: POST /admin/brands/:slug — name, time zone, help text,
// response target (a slug never changes).
func (h *Handlers) adminBrandUpdate(c echo.Context) error {
	_, err := admin.UpdateBrand(c.Request().Context(), h.Store, c.Param("slug"), admin.BrandForm{
		Name: c.FormValue("name"), Timezone: c.FormValue("timezone"), Country: c.FormValue("default_country"),
		HelpText: c.FormValue("help_text"), SLAMinutes: c.FormValue("sla_minutes"),
	})
	if err != nil {
		return h.adminFail(c, "admin_brands", h.adminBrandsData, err)
	}
	return adminDone(c, "/admin/brands", "brand_saved")
}
