package contact

import (
	"regexp"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/nyaruka/phonenumbers"
)

// validNumber answers what phonenumbers.IsValidNumber answers, from the
// same metadata and with the same regular expressions, about ten times
// faster: each pattern is compiled once per region and matched once, where
// the library rebuilds its cache key by concatenation, takes a lock and
// matches every pattern twice on each call. An import validates a million
// numbers it has never seen, and that was most of its time. The two are
// compared on every region's example numbers and on random numbers of
// every country code (TestValidNumberAgreesWithLibrary, FuzzValidNumber).
func validNumber(num *phonenumbers.PhoneNumber) bool {
	cc := int(num.GetCountryCode())
	regions := phonenumbers.GetRegionCodesForCountryCode(cc)
	if len(regions) == 0 {
		return false
	}
	nn := phonenumbers.GetNationalSignificantNumber(num)
	if len(regions) == 1 {
		r := matcherFor(cc, regions[0])
		return r != nil && r.valid(nn)
	}
	// Several regions share the code (+1, +7, +44…): the number belongs to
	// the first whose leading digits it has or, for a region without
	// leading digits, the first it is valid for.
	for _, rc := range regions {
		r := matcherFor(cc, rc)
		if r == nil {
			continue
		}
		if r.leading != nil {
			if r.leading.MatchString(nn) {
				return r.valid(nn)
			}
		} else if r.valid(nn) {
			return true
		}
	}
	return false
}

// descMatcher is one number type's possible lengths and pattern.
type descMatcher struct {
	lengths []int32
	re      *regexp.Regexp
}

func (d descMatcher) match(nn string) bool {
	if len(d.lengths) > 0 && !slices.ContainsFunc(d.lengths, func(l int32) bool { return int(l) == len(nn) }) {
		return false
	}
	return d.re.MatchString(nn)
}

// regionMatcher is a region's compiled metadata: its general description,
// and the types a valid number must match one of.
type regionMatcher struct {
	leading *regexp.Regexp
	general descMatcher
	types   []descMatcher
}

// valid is the library's "number type is not UNKNOWN".
func (r *regionMatcher) valid(nn string) bool {
	if !r.general.match(nn) {
		return false
	}
	for _, t := range r.types {
		if t.match(nn) {
			return true
		}
	}
	return false
}

var (
	metadataOnce sync.Once
	geoMetadata  map[string]*phonenumbers.PhoneMetadata // by region code
	nonGeo       map[int]*phonenumbers.PhoneMetadata    // "001" entities, by country code
	// matchers is copied on write (a region is compiled once, and there
	// are some 250), so that reading it takes no lock.
	matchers  atomic.Pointer[map[matcherKey]*regionMatcher]
	compileMu sync.Mutex
)

type matcherKey struct {
	cc     int
	region string
}

// matcherFor compiles a region's matcher on first use. nil when the
// metadata has no such region.
func matcherFor(cc int, region string) *regionMatcher {
	k := matcherKey{cc, region}
	if m := matchers.Load(); m != nil {
		if r, ok := (*m)[k]; ok {
			return r
		}
	}
	compileMu.Lock()
	defer compileMu.Unlock()
	old := matchers.Load()
	if old != nil {
		if r, ok := (*old)[k]; ok {
			return r
		}
	}
	metadataOnce.Do(loadMetadata)
	var md *phonenumbers.PhoneMetadata
	if region == "001" {
		md = nonGeo[cc]
	} else if m := geoMetadata[region]; m != nil && int(m.GetCountryCode()) == cc {
		md = m
	}
	var r *regionMatcher // nil is remembered too: no such region
	if md != nil {
		r = compileRegion(md)
	}
	next := map[matcherKey]*regionMatcher{k: r}
	if old != nil {
		for k2, v := range *old {
			next[k2] = v
		}
	}
	matchers.Store(&next)
	return r
}

func loadMetadata() {
	geoMetadata, nonGeo = map[string]*phonenumbers.PhoneMetadata{}, map[int]*phonenumbers.PhoneMetadata{}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return // every number is then invalid, as it would be for the library
	}
	for _, md := range coll.GetMetadata() {
		if md.GetId() == "001" {
			nonGeo[int(md.GetCountryCode())] = md
		} else {
			geoMetadata[md.GetId()] = md
		}
	}
}

func compileRegion(md *phonenumbers.PhoneMetadata) *regionMatcher {
	desc := func(d *phonenumbers.PhoneNumberDesc) descMatcher {
		return descMatcher{lengths: d.GetPossibleLength(), re: regexp.MustCompile("^(?:" + d.GetNationalNumberPattern() + ")$")}
	}
	r := &regionMatcher{general: desc(md.GetGeneralDesc())}
	if ld := md.GetLeadingDigits(); ld != "" {
		r.leading = regexp.MustCompile("^(?:" + ld + ")")
	}
	types := []*phonenumbers.PhoneNumberDesc{md.GetPremiumRate(), md.GetTollFree(), md.GetSharedCost(), md.GetVoip(),
		md.GetPersonalNumber(), md.GetPager(), md.GetUan(), md.GetVoicemail(), md.GetFixedLine()}
	if !md.GetSameMobileAndFixedLinePattern() {
		types = append(types, md.GetMobile())
	}
	for _, d := range types {
		// An absent type, or one without a pattern, matches no number.
		if d.GetNationalNumberPattern() == "" {
			continue
		}
		r.types = append(r.types, desc(d))
	}
	return r
}
