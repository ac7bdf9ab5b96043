package contact

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
	"sync"
	"time"
	_ "time/tzdata" // ResolveTimezone must never fail for want of a zone database
)

// DefaultTimezone is where a contact is assumed to live when neither the
// contact, the area code nor the brand says otherwise: most US recipients are
// Eastern, and guessing Eastern errs early in the evening for everyone west.
const DefaultTimezone = "America/New_York"

// Sources of a resolved time zone, as returned by ResolveTimezone, so that a
// held message can say why it was held at that hour.
const (
	TimezoneFromContact  = "contact"
	TimezoneFromAreaCode = "area_code"
	TimezoneFromNumber   = "number"
	TimezoneFromBrand    = "brand"
	TimezoneFromDefault  = "default"
)

// ResolveTimezone decides which local time quiet hours are measured in for a
// contact: the zone stored on the contact (the person told us), else the zone
// of the phone number (PhoneZone), else the brand's zone, else
// DefaultTimezone. A name that time.LoadLocation rejects, and "Local" (the
// server's zone, meaningless for a recipient), are skipped as if unset.
// source is one of the TimezoneFrom… constants.
//
// It is pure apart from reading the zone database; callers resolve once per
// contact and keep the result.
func ResolveTimezone(contactTZ, phone, brandTZ string) (loc *time.Location, source string) {
	return resolveTimezone(contactTZ, phone, brandTZ, loadZone)
}

// Zones is ResolveTimezone with loaded zones remembered: time.LoadLocation
// reads the zone database on every call, and the sender resolves a zone for
// every text it sends. The zero value is ready to use.
type Zones struct{ m sync.Map }

// Resolve is ResolveTimezone through the cache.
func (z *Zones) Resolve(contactTZ, phone, brandTZ string) (*time.Location, string) {
	return resolveTimezone(contactTZ, phone, brandTZ, z.load)
}

func (z *Zones) load(name string) (*time.Location, bool) {
	if v, ok := z.m.Load(name); ok {
		loc, _ := v.(*time.Location)
		return loc, loc != nil
	}
	loc, ok := loadZone(name)
	z.m.Store(name, loc) // a nil remembers a bad name too
	return loc, ok
}

func resolveTimezone(contactTZ, phone, brandTZ string, loadZone func(string) (*time.Location, bool)) (*time.Location, string) {
	if loc, ok := loadZone(contactTZ); ok {
		return loc, TimezoneFromContact
	}
	if tz, src, ok := PhoneZone(phone); ok {
		if loc, ok := loadZone(tz); ok {
			return loc, src
		}
	}
	if loc, ok := loadZone(brandTZ); ok {
		return loc, TimezoneFromBrand
	}
	loc, ok := loadZone(DefaultTimezone)
	var err error
	if !ok {
		loc, err = time.LoadLocation(DefaultTimezone)
	}
	if err != nil {
		// Unreachable: time/tzdata is linked into this package.
		panic("contact: no zone data for " + DefaultTimezone + ": " + err.Error())
	}
	return loc, TimezoneFromDefault
}

// PhoneZone is the time zone a phone number (E.164) most likely lives in,
// from libphonenumber's per-prefix zones and the area-code table
// (AreaCodeInfo), with source TimezoneFromNumber or TimezoneFromAreaCode:
//
//   - libphonenumber's zone where it knows the number's own exchange (the
//     prefix +1NPANXX answers differently from the area code alone): it
//     splits area codes that straddle a zone line by exchange (541-889 Ontario,
//     Oregon is Mountain, 308-635 Scottsbluff is Mountain), which the table,
//     one zone per area code, cannot;
//   - else the table for the North American area codes it holds: where
//     libphonenumber has only a whole-area-code default, that default is
//     wrong for several codes (689 Orlando and 423 Chattanooga as Central, 474
//     Saskatchewan as Winnipeg, which keeps summer time) — TestPhoneZoneSources
//     pins them;
//   - else libphonenumber's zone when it names exactly one: every other
//     country, and North American codes outside the table (876 Jamaica).
//
// ok is false when neither knows one zone (toll-free numbers, countries
// spanning several zones without finer data).
func PhoneZone(phone string) (tz, source string, ok bool) {
	if !e164.MatchString(phone) {
		return "", "", false
	}
	zs, _ := phonenumbers.GetTimezonesForPrefix(phone)
	single := len(zs) == 1 && zs[0] != phonenumbers.UNKNOWN_TIMEZONE
	if _, tableTZ, ok := AreaCodeInfo(phone); ok {
		if single {
			npa, _ := phonenumbers.GetTimezonesForPrefix(phone[:5])
			if len(npa) != 1 || npa[0] != zs[0] {
				return zs[0], TimezoneFromNumber, true
			}
		}
		return tableTZ, TimezoneFromAreaCode, true
	}
	if single {
		return zs[0], TimezoneFromNumber, true
	}
	return "", "", false
}

// loadZone loads an IANA zone name, treating "" and "Local" as unset.
func loadZone(name string) (*time.Location, bool) {
	name = strings.TrimSpace(name)
	if name == "" || name == "Local" {
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, false
	}
	return loc, true
}
