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
		{"foreign falls to brand", "", "+442079460958", "Europe/London", "Europe/London", "brand"},
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
