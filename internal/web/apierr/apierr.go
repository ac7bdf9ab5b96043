// Package apierr is the one catalogue of client-visible errors: a stable code,
// an HTTP status and a message, rendered as {"error": {"code", "message"}}.
package apierr

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
)

// Error is a client-visible error.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// The catalogue. Handlers build errors only through these constructors.
var (
	codes = map[string]int{
		"invalid_request":        http.StatusBadRequest,
		"invalid_phone":          http.StatusBadRequest,
		"missing_field":          http.StatusBadRequest,
		"invalid_field":          http.StatusBadRequest,
		"unauthorized":           http.StatusUnauthorized,
		"forbidden":              http.StatusForbidden,
		"invalid_signature":      http.StatusForbidden,
		"not_found":              http.StatusNotFound,
		"brand_not_found":        http.StatusNotFound,
		"contact_not_found":      http.StatusNotFound,
		"conversation_not_found": http.StatusNotFound,
		"message_not_found":      http.StatusNotFound,
		"campaign_not_found":     http.StatusNotFound,
		"segment_not_found":      http.StatusNotFound,
		"trigger_not_found":      http.StatusNotFound,
		"unknown_number":         http.StatusNotFound,
		"conflict":               http.StatusConflict,
		// An Idempotency-Key reused for a different request, or sent again
		// while its first request is still running.
		"idempotency_conflict":    http.StatusConflict,
		"idempotency_in_progress": http.StatusConflict,
		"payload_too_large":       http.StatusRequestEntityTooLarge,
		"rate_limited":            http.StatusTooManyRequests,
		"unsupported_media":       http.StatusUnsupportedMediaType,
		"internal":                http.StatusInternalServerError,
		"unavailable":             http.StatusServiceUnavailable,
	}
)

// New returns the catalogue error code with message. An unknown code panics in
// tests rather than leaking an unlisted code to clients.
func New(code, format string, args ...any) *Error {
	st, ok := codes[code]
	if !ok {
		panic("apierr: code not in catalogue: " + code)
	}
	return &Error{Status: st, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Field returns an error about one input field.
func Field(code, field, format string, args ...any) *Error {
	e := New(code, format, args...)
	e.Field = field
	return e
}

// Codes lists the catalogue (for the OpenAPI document).
func Codes() map[string]int {
	out := make(map[string]int, len(codes))
	for k, v := range codes {
		out[k] = v
	}
	return out
}

// Write sends e as the JSON error envelope.
func Write(c echo.Context, e *Error) error {
	return c.JSON(e.Status, map[string]*Error{"error": e})
}
