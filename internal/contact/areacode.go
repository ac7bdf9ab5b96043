package contact

// areaCode is what the table in areacode_data.go knows about one NPA.
type areaCode struct {
	region string // two-letter US state/territory or Canadian province
	tz     string // IANA zone of (most of) the area
}

// AreaCodeInfo guesses where a North American number lives from its area
// code, so that quiet hours can be applied in the recipient's local time when
// the contact has no time zone of its own, and so that state rules (Florida,
// Oklahoma) can be applied at all.
//
// phone must be a normalised E.164 NANP number ("+12125550123", see
// NormalizeE164). region is a two-letter US state, DC, US territory or
// Canadian province code ("NY", "DC", "PR", "ON"); tz is an IANA zone name.
// ok is false for numbers outside +1, for malformed numbers, for
// non-geographic codes (toll-free 8XX, 5XX, 600, 700, 900) and for codes the
// table does not know: a new overlay, or another NANP country (Caribbean
// codes such as 876 Jamaica are deliberately absent: their rules are not US
// or Canadian rules). Numbers are portable, so the answer is a default, not a
// fact about the person.
func AreaCodeInfo(phone string) (region, tz string, ok bool) {
	if !nanp.MatchString(phone) {
		return "", "", false
	}
	a, ok := areaCodes[phone[2:5]]
	if !ok {
		return "", "", false
	}
	return a.region, a.tz, true
}
