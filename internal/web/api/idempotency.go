package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/parleyhq/parley/internal/store"
	"github.com/parleyhq/parley/internal/web/apierr"
)

// The headers of idempotent requests.
const (
	idempotencyHeader = "Idempotency-Key"
	replayedHeader    = "Idempotent-Replayed"
	maxIdempotencyKey = 255
)

// idempotent makes a creating POST safe to retry. Every such route declares
// it in routes(). With an Idempotency-Key header, the first request with a
// key runs the handler and its answer is kept for store.IdempotencyTTL; the
// same request again (same API key, key, method, path, query and body, byte
// for byte) gets that answer back, marked Idempotent-Replayed: true, without
// running the handler. The same key with another request is 409
// idempotency_conflict; while the first request has not answered, 409
// idempotency_in_progress. Answers below 500 are kept (validation errors
// too: they are the answer to that body); a 5xx, an error or a panic
// releases the key so that the client can retry.
//
// Without the header it does nothing, and no query is made.
func (h *Handlers) idempotent(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		values := r.Header.Values(idempotencyHeader)
		if len(values) == 0 {
			return next(c)
		}
		if bad := checkIdempotencyKey(values); bad != nil {
			return apierr.Write(c, bad)
		}
		key := values[0]
		apiKeyID, ok := c.Get(ctxAPIKeyID).(int64)
		if !ok {
			return h.internal(c, errors.New("api: idempotent route without an API key"))
		}
		limit := int64(maxBody)
		if l, ok := bodyLimits[strings.TrimPrefix(c.Path(), prefix)]; ok {
			limit = l
		}
		body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, limit))
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return apierr.Write(c, apierr.New("payload_too_large", "the body is over %d bytes", limit))
		case err != nil:
			return apierr.Write(c, apierr.New("invalid_request", "the body cannot be read: %v", err))
		}
		r.Body = io.NopCloser(bytes.NewReader(body))

		claim, err := h.st.ClaimIdempotencyKey(r.Context(), apiKeyID, key, requestHash(r, body))
		if err != nil {
			return h.internal(c, err)
		}
		switch claim.State {
		case store.IdempotencyReplay:
			c.Response().Header().Set(replayedHeader, "true")
			return c.Blob(claim.Status, claim.ContentType, claim.Body)
		case store.IdempotencyConflict:
			return apierr.Write(c, apierr.Field("idempotency_conflict", idempotencyHeader,
				"this Idempotency-Key was used in the last 24 hours for a different request; use a new key for a new request"))
		case store.IdempotencyInProgress:
			c.Response().Header().Set("Retry-After", "1")
			return apierr.Write(c, apierr.Field("idempotency_in_progress", idempotencyHeader,
				"a request with this Idempotency-Key is still in progress; retry shortly to get its answer"))
		}
		return h.runClaimed(c, next, apiKeyID, key, claim.Token)
	}
}

// runClaimed runs the handler holding the key, keeps or releases the key,
// and only then lets the answer out: a client that has an answer and retries
// always gets it replayed, never "in progress".
func (h *Handlers) runClaimed(c echo.Context, next echo.HandlerFunc, apiKeyID int64, key string, token time.Time) (err error) {
	res := c.Response()
	held := &heldResponse{ResponseWriter: res.Writer}
	res.Writer = held
	// Whatever happens to the request now, the key is kept or released.
	ctx := context.WithoutCancel(c.Request().Context())
	finished := false
	defer func() {
		res.Writer = held.ResponseWriter
		if finished {
			return
		}
		// A panic: release, and let the recoverer answer 500.
		h.release(ctx, c, apiKeyID, key, token)
		res.Committed, res.Size = false, 0
	}()

	err = next(c)
	finished = true
	res.Writer = held.ResponseWriter
	if err == nil && res.Committed && res.Status < http.StatusInternalServerError {
		if cerr := h.st.CompleteIdempotencyKey(ctx, apiKeyID, key, token, res.Status, res.Header().Get(echo.HeaderContentType), held.body.Bytes()); cerr != nil {
			// The work is done and the client gets its answer; a retry will
			// be told the key is in progress until the lease runs out.
			h.log.Error("api: could not keep the answer of an idempotent request", "path", c.Path(), "err", cerr)
		}
	} else {
		h.release(ctx, c, apiKeyID, key, token)
	}
	if res.Committed {
		held.ResponseWriter.WriteHeader(res.Status)
		if _, werr := held.ResponseWriter.Write(held.body.Bytes()); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

func (h *Handlers) release(ctx context.Context, c echo.Context, apiKeyID int64, key string, token time.Time) {
	if err := h.st.ReleaseIdempotencyKey(ctx, apiKeyID, key, token); err != nil {
		h.log.Error("api: could not release an idempotency key; a retry of the same request takes it over after the lease", "path", c.Path(), "err", err)
	}
}

// checkIdempotencyKey accepts one header of 1 to 255 printable ASCII
// characters.
func checkIdempotencyKey(values []string) *apierr.Error {
	if len(values) > 1 {
		return apierr.Field("invalid_field", idempotencyHeader, "send one Idempotency-Key header, not %d", len(values))
	}
	k := values[0]
	if len(k) == 0 || len(k) > maxIdempotencyKey {
		return apierr.Field("invalid_field", idempotencyHeader, "Idempotency-Key must be 1 to %d characters long, not %d", maxIdempotencyKey, len(k))
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return apierr.Field("invalid_field", idempotencyHeader, "Idempotency-Key must be printable ASCII; byte %d is 0x%02x", i, k[i])
		}
	}
	return nil
}

// requestHash identifies a request for its idempotency key: method, path,
// query and body.
func requestHash(r *http.Request, body []byte) []byte {
	h := sha256.New()
	for _, part := range []string{r.Method, r.URL.Path, r.URL.RawQuery} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(body)
	return h.Sum(nil)
}

// heldResponse keeps the handler's answer back until the key is settled; the
// header map is the real one, so headers set by the handler go out with it.
type heldResponse struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (w *heldResponse) WriteHeader(int) {} // echo's Response records the status

func (w *heldResponse) Write(b []byte) (int, error) { return w.body.Write(b) }

// Flush does nothing: nothing leaves before the key is settled.
func (w *heldResponse) Flush() {}
