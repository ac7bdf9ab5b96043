package contact

import (
	"encoding/csv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
	"google.golang.org/protobuf/proto"
)

// FuzzNormalizePhone: a number is refused with a reason or comes back in
// E.164 form, and normalising that again changes nothing.
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"+12125550100", "(212) 555-0100", "07700 900123", "+44 7700 900123", "00 33 1 23 45 67 89", "+1", "", "++", "٠١٢٣", "+999999999999999999"} {
		f.Add(s, "US")
		f.Add(s, "GB")
	}
	f.Fuzz(func(t *testing.T, raw, country string) {
		if !ValidCountry(country) {
			country = DefaultCountry
		}
		e, err := NormalizePhone(raw, country)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("a refusal without a reason")
			}
			return
		}
		if !strings.HasPrefix(e, "+") || len(e) > 16 {
			t.Fatalf("%q → %q is not E.164", raw, e)
		}
		again, err := NormalizePhone(e, country)
		if err != nil || again != e {
			t.Fatalf("%q → %q → %q, %v", raw, e, again, err)
		}
	})
}

// FuzzImportRow: any CSV header and record either fails the header or the
// row with an error, or gives a row whose phones are E.164.
func FuzzImportRow(f *testing.F) {
	f.Add("phone,name,timezone,tier\n+12125550100,Ana,America/New_York,gold\n")
	f.Add("phones,loyalty_id,consent_purpose,consent_status,consent_source,consent_evidence,consent_at\n\"+12125550100;+12125550101\",L1,marketing,opted_in,import,form,2026-01-02\n")
	f.Add("\ufeffphone,\"multi\nline\"\n\"+1 212 555 0100\",\"=cmd\"\n")
	f.Add("name\nx\n")
	f.Fuzz(func(t *testing.T, file string) {
		rd := csv.NewReader(strings.NewReader(strings.TrimPrefix(file, "\ufeff")))
		rd.FieldsPerRecord = -1
		recs, err := rd.ReadAll()
		if err != nil || len(recs) < 2 {
			return
		}
		cols, err := readHeader(recs[0])
		if err != nil {
			return
		}
		cols.country = DefaultCountry
		for i, rec := range recs[1:] {
			row, err := cols.row(int64(i+2), rec)
			if err != nil {
				continue
			}
			for _, p := range row.Phones {
				if !strings.HasPrefix(p, "+") {
					t.Fatalf("row %d kept phone %q", i+2, p)
				}
			}
		}
	})
}

// FuzzValidNumber: Parley's compiled validity check and the library's
// agree on any country code and national number.
func FuzzValidNumber(f *testing.F) {
	for _, s := range []struct {
		cc int32
		n  uint64
	}{{1, 2125550100}, {1, 2045550100}, {44, 7700900123}, {39, 612345678}, {800, 12345678}, {7, 9123456789}, {1, 8095551234}, {0, 1}} {
		f.Add(s.cc, s.n, false)
	}
	f.Add(int32(39), uint64(612345678), true)
	f.Fuzz(func(t *testing.T, cc int32, n uint64, leadingZero bool) {
		num := &phonenumbers.PhoneNumber{CountryCode: proto.Int32(cc), NationalNumber: proto.Uint64(n)}
		if leadingZero {
			num.ItalianLeadingZero = proto.Bool(true)
			num.NumberOfLeadingZeros = proto.Int32(1)
		}
		if got, want := validNumber(num), phonenumbers.IsValidNumber(num); got != want {
			t.Fatalf("+%d %d (leading zero %v): validNumber %v, library %v", cc, n, leadingZero, got, want)
		}
	})
}
