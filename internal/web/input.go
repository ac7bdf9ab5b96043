package web

import (
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/web/apierr"
)

// CleanText says whether s can be stored and searched as Postgres text:
// valid UTF-8 without NUL characters. Anything else makes the database
// refuse the statement, which a handler would report as a 500.
func CleanText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// cleanQuery refuses, with a 400 naming the parameter, a request whose
// path parameters or query string hold a name or a value that is not
// clean text: every id, slug, filter and search is read from there, and
// none of them means anything with such bytes in it.
func cleanQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		values := c.ParamValues()
		for i, name := range c.ParamNames() {
			if i < len(values) && !CleanText(values[i]) {
				return apierr.Write(c, apierr.Field("invalid_field", name, "%s must be UTF-8 text without NUL characters", name))
			}
		}
		if c.Request().URL.RawQuery == "" {
			return next(c)
		}
		for name, values := range c.QueryParams() {
			if !CleanText(name) {
				return apierr.Write(c, apierr.Field("invalid_field", strings.ToValidUTF8(strings.ReplaceAll(name, "\x00", ""), "?"),
					"a query parameter's name must be UTF-8 text without NUL characters"))
			}
			for _, v := range values {
				if !CleanText(v) {
					return apierr.Write(c, apierr.Field("invalid_field", name, "%s must be UTF-8 text without NUL characters", name))
				}
			}
		}
		return next(c)
	}
}
