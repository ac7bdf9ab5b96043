package contact

import (
	"regexp"
	"testing"
	"time"
)

func TestAreaCodeInfo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		phone      string
		region, tz string
		ok         bool
	}{
		{"+12125550123", "NY", "America/New_York", true},
		{"+13325550123", "NY", "America/New_York", true},
		{"+16465550123", "NY", "America/New_York", true},
		{"+17185550123", "NY", "America/New_York", true},
		{"+19175550123", "NY", "America/New_York", true},
		{"+13055550123", "FL", "America/New_York", true},
		{"+14075550123", "FL", "America/New_York", true},
		{"+18505550123", "FL", "America/Chicago", true},
		{"+14055550123", "OK", "America/Chicago", true},
		{"+19185550123", "OK", "America/Chicago", true},
		{"+18085550123", "HI", "Pacific/Honolulu", true},
		{"+19075550123", "AK", "America/Anchorage", true},
		{"+16025550123", "AZ", "America/Phoenix", true},
		{"+14805550123", "AZ", "America/Phoenix", true},
		{"+12085550123", "ID", "America/Boise", true},
		{"+13175550123", "IN", "America/Indiana/Indianapolis", true},
		{"+12195550123", "IN", "America/Chicago", true},
		{"+19155550123", "TX", "America/Denver", true},
		{"+12145550123", "TX", "America/Chicago", true},
		{"+12705550123", "KY", "America/Chicago", true},
		{"+15025550123", "KY", "America/New_York", true},
		{"+16155550123", "TN", "America/Chicago", true},
		{"+18655550123", "TN", "America/New_York", true},
		{"+13125550123", "IL", "America/Chicago", true},
		{"+13135550123", "MI", "America/Detroit", true},
		{"+14155550123", "CA", "America/Los_Angeles", true},
		{"+12065550123", "WA", "America/Los_Angeles", true},
		{"+15415550123", "OR", "America/Los_Angeles", true},
		{"+13035550123", "CO", "America/Denver", true},
		{"+12025550123", "DC", "America/New_York", true},
		{"+16175550123", "MA", "America/New_York", true},
		{"+14165550123", "ON", "America/Toronto", true},
		{"+15145550123", "QC", "America/Toronto", true},
		{"+16045550123", "BC", "America/Vancouver", true},
		{"+14035550123", "AB", "America/Edmonton", true},
		{"+13065550123", "SK", "America/Regina", true},
		{"+17095550123", "NL", "America/St_Johns", true},
		{"+19025550123", "NS", "America/Halifax", true},
		{"+17875550123", "PR", "America/Puerto_Rico", true},
		{"+19395550123", "PR", "America/Puerto_Rico", true},
		{"+16715550123", "GU", "Pacific/Guam", true},
		{"+13405550123", "VI", "America/St_Thomas", true},
		// Not geographic, not US/Canada, or not a normalised NANP number.
		{"+18005550123", "", "", false},
		{"+18885550123", "", "", false},
		{"+19005550123", "", "", false},
		{"+18765550123", "", "", false}, // Jamaica
		{"+442079460958", "", "", false},
		{"+1212555012", "", "", false},
		{"2125550123", "", "", false},
		{"+1212", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		region, tz, ok := AreaCodeInfo(tt.phone)
		if region != tt.region || tz != tt.tz || ok != tt.ok {
			t.Errorf("AreaCodeInfo(%q) = %q, %q, %v; want %q, %q, %v", tt.phone, region, tz, ok, tt.region, tt.tz, tt.ok)
		}
	}
}

func TestAreaCodeTable(t *testing.T) {
	t.Parallel()
	npa := regexp.MustCompile(`^[2-9][0-9]{2}$`)
	region := regexp.MustCompile(`^[A-Z]{2}$`)
	zones := map[string]bool{}
	for code, a := range areaCodes {
		if !npa.MatchString(code) {
			t.Errorf("%q is not an area code [2-9]XX", code)
		}
		if code[1] == '1' && code[2] == '1' {
			t.Errorf("%s is an N11 service code", code)
		}
		if !region.MatchString(a.region) {
			t.Errorf("%s: region %q", code, a.region)
		}
		zones[a.tz] = true
	}
	for tz := range zones {
		if _, err := time.LoadLocation(tz); err != nil {
			t.Errorf("zone %q: %v", tz, err)
		}
	}
	for _, code := range []string{"456", "500", "521", "533", "544", "566", "577", "588", "600", "700", "710",
		"800", "833", "844", "855", "866", "877", "888", "900"} {
		if a, ok := areaCodes[code]; ok {
			t.Errorf("non-geographic %s is in the table as %+v", code, a)
		}
	}
	// Keys of a map literal are unique by construction (the compiler rejects
	// duplicates); a size check catches a table truncated by a bad edit.
	if n := len(areaCodes); n < 400 {
		t.Errorf("table holds %d codes, want about 400+", n)
	}
}
