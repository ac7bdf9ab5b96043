package webhook

import (
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParseInbound: any form body Twilio (or anyone) posts either names the
// bad field or gives a message whose sender and recipient are set, whose
// id fits, and whose text is valid UTF-8 without NUL.
func FuzzParseInbound(f *testing.F) {
	for _, s := range []string{
		"MessageSid=SM0123&From=%2B12125550100&To=%2B15005550006&Body=hi",
		"SmsMessageSid=SM1&From=%2B447700900123&To=%2B15005550006&Body=STOP&NumMedia=1&MediaUrl0=https%3A%2F%2Fx&MediaContentType0=image%2Fjpeg",
		"MessageSid=SM2&From=Vodafone&To=12345&Body=%00%FF&MediaUrl99=x&Extra=%3Cscript%3E",
		"MessageSid=&From=&To=", "From=%2B1&To=%2B1&MessageSid=" + strings.Repeat("S", 70), "%zz=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		m, bad := parseInbound(form, time.Unix(0, 0))
		if bad != nil {
			if bad.Field == "" {
				t.Fatalf("an error naming no field: %+v", bad)
			}
			return
		}
		if m.From == "" || m.To == "" || m.SID == "" || len(m.SID) > 64 {
			t.Fatalf("accepted without its fields: %+v", m)
		}
		if !utf8.ValidString(m.Body) || strings.ContainsRune(m.Body, 0) {
			t.Fatalf("body kept invalid text: %q", m.Body)
		}
	})
}
