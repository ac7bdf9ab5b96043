package contact_test

import (
	"testing"

	"github.com/parleyhq/parley/internal/contact"
)

func TestResolveTimezone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                    string
		contactTZ, phone, brand string
		wantZone, wantSource    string
	}{
		{"contact wins", "America/Denver", "+12125550123", "America/Chicago", "America/Denver", "contact"},
		{"contact trimmed", " Europe/London ", "+12125550123", "", "Europe/London", "contact"},
		{"bad contact zone falls to area code", "Mars/Olympus", "+18085550123", "America/Chicago", "Pacific/Honolulu", "area_code"},
		{"Local is not a recipient zone", "Local", "+14165550123", "", "America/Toronto", "area_code"},
		{"area code", "", "+18505550123", "America/New_York", "America/Chicago", "area_code"},
		{"toll-free falls to brand", "", "+18005550123", "America/Los_Angeles", "America/Los_Angeles", "brand"},
		{"another country's number has its zone", "", "+442079460958", "America/Chicago", "Europe/London", "number"},
		{"Jamaica is not in the area-code table", "", "+18765550123", "America/Chicago", "America/Jamaica", "number"},
		{"a non-geographic number falls to brand", "", "+15005550006", "Europe/Paris", "Europe/Paris", "brand"},
		{"bad brand falls to default", "", "+18005550123", "Nowhere/Special", "America/New_York", "default"},
		{"nothing", "", "", "", "America/New_York", "default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			loc, source := contact.ResolveTimezone(tt.contactTZ, tt.phone, tt.brand)
			if loc == nil || loc.String() != tt.wantZone || source != tt.wantSource {
				t.Fatalf("ResolveTimezone(%q, %q, %q) = %v, %q; want %s, %q", tt.contactTZ, tt.phone, tt.brand, loc, source, tt.wantZone, tt.wantSource)
			}
		})
	}
}

// TestPhoneZoneSources pins why PhoneZone mixes its two sources: where
// libphonenumber knows an exchange it splits an area code the table cannot,
// and where it knows only the whole area code its default is wrong for codes
// the table has right.
func TestPhoneZoneSources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		phone, why   string
		zone, source string
	}{
		{"+15418891234", "Ontario, Oregon (Malheur County) keeps Mountain time; the table says Pacific for 541", "America/Denver", "number"},
		{"+13086351234", "Scottsbluff, Nebraska is Mountain; the table says Central for 308", "America/Denver", "number"},
		{"+18504321234", "Pensacola is Central", "America/Chicago", "number"},
		{"+16895550123", "689 is Orlando, Eastern; libphonenumber's area-code default is Central", "America/New_York", "area_code"},
		{"+14235550123", "423 is Chattanooga and the Tri-Cities, Eastern; libphonenumber's default is Central", "America/New_York", "area_code"},
		{"+14745550123", "474 is Saskatchewan, which keeps standard time all year; libphonenumber's default is Winnipeg", "America/Regina", "area_code"},
		{"+12125550123", "both agree", "America/New_York", "area_code"},
		{"+18005550123", "toll-free has no zone", "", ""},
		{"2125550123", "not E.164", "", ""},
	}
	for _, tt := range tests {
		tz, source, ok := contact.PhoneZone(tt.phone)
		if tz != tt.zone || source != tt.source || ok != (tt.zone != "") {
			t.Errorf("PhoneZone(%s) = %q, %q, %v; want %q from %q (%s)", tt.phone, tz, source, ok, tt.zone, tt.source, tt.why)
		}
	}
}
