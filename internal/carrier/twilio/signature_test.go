package twilio

import (
	"net/url"
	"testing"

	twclient "github.com/twilio/twilio-go/client"
)

const token = "12345678901234567890123456789012"

// Sign must agree with twilio-go's own validator on every single-valued form.
func TestSignMatchesTwilioGo(t *testing.T) {
	t.Parallel()
	forms := []url.Values{
		{"MessageSid": {"SM0123456789abcdef0123456789abcdef"}, "From": {"+14155550100"}, "To": {"+15005550006"}, "Body": {"Hello ✈️ & <b>"}},
		{"Body": {""}, "NumMedia": {"0"}},
		{},
	}
	v := twclient.NewRequestValidator(token)
	for _, u := range []string{"https://parley.example.com/webhooks/twilio/sms", "https://parley.example.com/webhooks/twilio/sms?b=2&a=1", "http://localhost:8080/webhooks/twilio/sms"} {
		for _, f := range forms {
			params := map[string]string{}
			for k := range f {
				params[k] = f.Get(k)
			}
			sig := Sign(token, u, f)
			if !v.Validate(u, params, sig) {
				t.Fatalf("twilio-go rejects our signature for %s %v", u, f)
			}
			if !Valid(token, u, f, sig) {
				t.Fatalf("Valid rejects its own signature for %s", u)
			}
		}
	}
}

func TestValid(t *testing.T) {
	t.Parallel()
	u := "https://parley.example.com/webhooks/twilio/sms"
	form := url.Values{"MessageSid": {"MM1"}, "MediaUrl0": {"https://x/b"}, "MediaUrl1": {"https://x/a"}}
	sig := Sign(token, u, form)
	tests := []struct {
		name string
		url  string
		form url.Values
		sig  string
		want bool
	}{
		{"good", u, form, sig, true},
		{"default port added", "https://parley.example.com:443/webhooks/twilio/sms", form, sig, true},
		{"missing", u, form, "", false},
		{"wrong token", u, form, Sign("other", u, form), false},
		{"other url", u + "?x=1", form, sig, false},
		{"body changed", u, url.Values{"MessageSid": {"MM2"}, "MediaUrl0": {"https://x/b"}, "MediaUrl1": {"https://x/a"}}, sig, false},
		{"extra field", u, url.Values{"MessageSid": {"MM1"}, "MediaUrl0": {"https://x/b"}, "MediaUrl1": {"https://x/a"}, "Body": {"x"}}, sig, false},
		{"garbage", u, form, "not base64!", false},
	}
	for _, tt := range tests {
		if got := Valid(token, tt.url, tt.form, tt.sig); got != tt.want {
			t.Errorf("%s: Valid = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// Repeated names contribute every value, sorted: the order the fields arrive
// in must not change the signature.
func TestSignRepeatedNames(t *testing.T) {
	t.Parallel()
	u := "https://p.example/webhooks/twilio/sms"
	a := Sign(token, u, url.Values{"K": {"b", "a"}})
	b := Sign(token, u, url.Values{"K": {"a", "b"}})
	if a != b {
		t.Fatal("value order changed the signature")
	}
	if a == Sign(token, u, url.Values{"K": {"a"}}) {
		t.Fatal("a second value did not change the signature")
	}
}
