// Package webhook adapts Twilio's webhooks to Parley's inbound and status
// services: signature check, form parsing and normalisation, TwiML answers.
package webhook

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/carrier/twilio"
	"github.com/parleyhq/parley/internal/contact"
	"github.com/parleyhq/parley/internal/inbound"
	"github.com/parleyhq/parley/internal/metrics"
	"github.com/parleyhq/parley/internal/outbound"
	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/web/apierr"
)

// MaxBody is the largest webhook body accepted (Twilio's are a few KiB).
const MaxBody = 64 << 10

const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response/>`

// Handlers serves the Twilio webhooks.
type Handlers struct {
	PublicURL string // PARLEY_PUBLIC_URL: the base Twilio signed
	AuthToken string
	Inbound   *inbound.Service
	Metrics   *metrics.Metrics
	Log       *slog.Logger
	Now       func() time.Time
}

// Register mounts the webhook routes.
func (h *Handlers) Register(e *echo.Echo) {
	e.POST("/webhooks/twilio/sms", h.timed("sms", h.sms))
	e.POST("/webhooks/twilio/status", h.timed("status", h.status))
}

func (h *Handlers) timed(endpoint string, fn echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := fn(c)
		h.Metrics.WebhookLatency.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
		return err
	}
}

// verifiedForm reads the body (at most MaxBody), parses it and checks the
// signature over PARLEY_PUBLIC_URL + the request URI. It writes the error
// response itself and returns ok=false when the request must go no further.
func (h *Handlers) verifiedForm(c echo.Context, endpoint string) (url.Values, bool, error) {
	r := c.Request()
	if r.ContentLength > MaxBody {
		return nil, false, apierr.Write(c, apierr.New("payload_too_large", "webhook body is %d bytes; the limit is %d", r.ContentLength, MaxBody))
	}
	raw, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, false, apierr.Write(c, apierr.New("payload_too_large", "webhook body is over %d bytes", MaxBody))
		}
		return nil, false, apierr.Write(c, apierr.New("invalid_request", "cannot read the body: %v", err))
	}
	// The signature is checked before anything else is judged: an unsigned
	// request learns nothing but 403, whatever its content type or body.
	form, perr := url.ParseQuery(string(raw))
	fullURL := h.PublicURL + r.URL.RequestURI()
	if perr != nil || !twilio.Valid(h.AuthToken, fullURL, form, r.Header.Get("X-Twilio-Signature")) {
		h.Metrics.SignatureFailures.WithLabelValues(endpoint).Inc()
		h.Log.Warn("webhook signature rejected", "endpoint", endpoint, "remote", c.RealIP())
		return nil, false, apierr.Write(c, apierr.New("invalid_signature", "X-Twilio-Signature is missing or does not match this request"))
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return nil, false, apierr.Write(c, apierr.New("unsupported_media", "webhooks must be application/x-www-form-urlencoded, got %q", ct))
	}
	return form, true, nil
}

func twiml(c echo.Context) error {
	return c.Blob(http.StatusOK, "text/xml; charset=utf-8", []byte(emptyTwiML))
}

// fieldsKnown are the inbound fields Parley stores in columns; the rest go to
// the message's extra map.
var fieldsKnown = map[string]bool{"MessageSid": true, "From": true, "To": true, "Body": true}

// parseInbound turns Twilio's inbound form into a Message, or an error naming
// the bad field.
func parseInbound(form url.Values, now time.Time) (inbound.Message, *apierr.Error) {
	m := inbound.Message{
		SID: strings.TrimSpace(form.Get("MessageSid")), AccountSID: form.Get("AccountSid"),
		MessagingServiceSID: form.Get("MessagingServiceSid"), Body: clean(form.Get("Body")),
		OptOutType: form.Get("OptOutType"), ReceivedAt: now.UTC(),
	}
	if m.SID == "" {
		m.SID = strings.TrimSpace(form.Get("SmsMessageSid"))
	}
	for _, f := range []struct{ name, val string }{{"MessageSid", m.SID}, {"From", form.Get("From")}, {"To", form.Get("To")}} {
		if strings.TrimSpace(f.val) == "" {
			return m, apierr.Field("missing_field", f.name, "the form has no %s", f.name)
		}
	}
	if len(m.SID) > 64 {
		return m, apierr.Field("invalid_field", "MessageSid", "MessageSid is %d characters; at most 64", len(m.SID))
	}
	var err error
	if m.From, err = contact.NormalizeSender(form.Get("From")); err != nil {
		return m, apierr.Field("invalid_phone", "From", "From: %v", err)
	}
	if m.To, err = contact.NormalizeSender(form.Get("To")); err != nil {
		return m, apierr.Field("invalid_phone", "To", "To: %v", err)
	}
	// Media: MediaUrl0..N with MediaContentType0..N. Read by index up to the
	// highest present, not trusting NumMedia alone.
	maxIdx := -1
	extra := map[string]string{}
	for k, v := range form {
		switch {
		case strings.HasPrefix(k, "MediaUrl"):
			if i, err := strconv.Atoi(k[len("MediaUrl"):]); err == nil && i > maxIdx && i < 100 {
				maxIdx = i
			}
		case strings.HasPrefix(k, "MediaContentType"):
		case !fieldsKnown[k] && len(v) > 0:
			extra[clean(k)] = clean(v[0])
		}
	}
	for i := 0; i <= maxIdx; i++ {
		u := form.Get("MediaUrl" + strconv.Itoa(i))
		if u == "" {
			continue
		}
		m.Media = append(m.Media, store.Media{URL: clean(u), ContentType: clean(form.Get("MediaContentType" + strconv.Itoa(i)))})
	}
	if len(extra) > 0 {
		m.Extra = extra
	}
	return m, nil
}

func (h *Handlers) sms(c echo.Context) error {
	form, ok, err := h.verifiedForm(c, "sms")
	if !ok {
		return err
	}
	m, bad := parseInbound(form, h.Now())
	if bad != nil {
		return apierr.Write(c, bad)
	}
	// The pipeline must finish even if Twilio hangs up: the message is ours now.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), 10*time.Second)
	defer cancel()
	res, err := h.Inbound.Receive(ctx, m)
	switch {
	case errors.Is(err, inbound.ErrUnknownNumber):
		return apierr.Write(c, apierr.Field("unknown_number", "To", "%s is not a number of any brand on this Parley", m.To))
	case err != nil:
		h.Log.Error("inbound message not stored", "sid", m.SID, "from", m.From, "err", err)
		return apierr.Write(c, apierr.New("internal", "the message could not be stored"))
	}
	h.Log.Debug("inbound", "sid", m.SID, "from", m.From, "to", m.To, "duplicate", res.Duplicate, "spooled", res.Spooled)
	return twiml(c)
}

func (h *Handlers) status(c echo.Context) error {
	form, ok, err := h.verifiedForm(c, "status")
	if !ok {
		return err
	}
	cb := outbound.Callback{
		SID:          strings.TrimSpace(form.Get("MessageSid")),
		Status:       strings.ToLower(strings.TrimSpace(form.Get("MessageStatus"))),
		ErrorMessage: form.Get("ErrorMessage"),
	}
	if cb.SID == "" {
		cb.SID = strings.TrimSpace(form.Get("SmsSid"))
	}
	if cb.Status == "" {
		cb.Status = strings.ToLower(strings.TrimSpace(form.Get("SmsStatus")))
	}
	if cb.SID == "" {
		return apierr.Write(c, apierr.Field("missing_field", "MessageSid", "the form has no MessageSid"))
	}
	if cb.Status == "" {
		return apierr.Write(c, apierr.Field("missing_field", "MessageStatus", "the form has no MessageStatus"))
	}
	if v := form.Get("ErrorCode"); v != "" {
		if cb.ErrorCode, err = strconv.Atoi(v); err != nil {
			return apierr.Write(c, apierr.Field("invalid_field", "ErrorCode", "ErrorCode %q is not a number", v))
		}
	}
	if v := c.QueryParam("m"); v != "" {
		if cb.MessageID, err = strconv.ParseInt(v, 10, 64); err != nil || cb.MessageID <= 0 {
			return apierr.Write(c, apierr.Field("invalid_field", "m", "m=%q is not a message id", v))
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), 10*time.Second)
	defer cancel()
	out, spooled, err := h.Inbound.ApplyStatus(ctx, cb)
	if spooled {
		out = "spooled"
	}
	switch {
	case errors.Is(err, outbound.ErrUnknownStatus):
		return apierr.Write(c, apierr.Field("invalid_field", "MessageStatus", "%v", err))
	case err != nil:
		h.Log.Error("status callback not applied", "sid", cb.SID, "err", err)
		return apierr.Write(c, apierr.New("unavailable", "the status could not be stored; try again"))
	}
	h.Metrics.StatusCallbacks.WithLabelValues(string(out)).Inc()
	return twiml(c)
}

// clean makes customer text storable: Postgres text cannot hold NUL, and
// invalid UTF-8 becomes U+FFFD rather than failing the message.
func clean(s string) string {
	return strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
}
