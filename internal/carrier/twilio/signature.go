// Package twilio is Parley's Twilio adapter: webhook signatures, field and
// status names, error codes, and (for sending) the only use of twilio-go.
package twilio

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Twilio's signature scheme is HMAC-SHA1.
	"encoding/base64"
	"net/url"
	"sort"
)

// Sign computes X-Twilio-Signature for a form POST to fullURL: base64 of
// HMAC-SHA1(authToken, URL + every (name + value) pair sorted by name, then
// value). Repeated names contribute each of their values.
func Sign(authToken, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(fullURL))
	for _, k := range keys {
		vals := append([]string(nil), form[k]...)
		sort.Strings(vals)
		for _, v := range vals {
			mac.Write([]byte(k))
			mac.Write([]byte(v))
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Valid reports, in constant time, whether signature is Twilio's signature of
// the form POSTed to fullURL. Like Twilio's own libraries it also accepts the
// URL with the default port added or removed, since Twilio may sign either.
func Valid(authToken, fullURL string, form url.Values, signature string) bool {
	if signature == "" || authToken == "" {
		return false
	}
	ok := false
	for _, u := range urlVariants(fullURL) {
		// Evaluate every variant so timing does not depend on which matched.
		if hmac.Equal([]byte(Sign(authToken, u, form)), []byte(signature)) {
			ok = true
		}
	}
	return ok
}

func urlVariants(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return []string{raw}
	}
	port := map[string]string{"https": "443", "http": "80"}[u.Scheme]
	if port == "" {
		return []string{raw}
	}
	alt := *u
	switch {
	case u.Port() == port:
		alt.Host = u.Hostname()
	case u.Port() == "":
		alt.Host = u.Host + ":" + port
	default:
		return []string{raw}
	}
	return []string{raw, alt.String()}
}
