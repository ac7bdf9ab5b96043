package twilio

import (
	"net/url"
	"testing"
)

// FuzzSignature: Parley's signature of any form is valid (never without an
// auth token), and an added field or a foreign signature is not; an
// arbitrary signature never panics.
func FuzzSignature(f *testing.F) {
	f.Add("tok", "https://parley.example.com/webhooks/twilio/sms", "Body=hi&From=%2B1", "x")
	f.Add("", "http://h:80/p?q=1", "a=1&a=2&b=", "")
	f.Add("t", "https://h:443/p", "", "AAAA")
	f.Fuzz(func(t *testing.T, token, u, body, sig string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		good := Sign(token, u, form)
		if token == "" {
			if Valid(token, u, form, good) {
				t.Fatal("a signature passed with no auth token configured")
			}
			return
		}
		if !Valid(token, u, form, good) {
			t.Fatalf("own signature refused: %q %q %q", token, u, body)
		}
		if sig != good && Valid(token, u, form, sig) && Sign(token, u, form) != sig {
			// Another URL variant (default port) may sign the same; otherwise a
			// foreign signature must fail.
			ok := false
			for _, v := range urlVariants(u) {
				if Sign(token, v, form) == sig {
					ok = true
				}
			}
			if !ok {
				t.Fatalf("a foreign signature %q passed", sig)
			}
		}
		tampered := url.Values{}
		for k, vs := range form {
			tampered[k] = append([]string(nil), vs...)
		}
		tampered.Add("Injected", "1")
		if Valid(token, u, tampered, good) {
			t.Fatal("a form with an added field kept its signature")
		}
	})
}
