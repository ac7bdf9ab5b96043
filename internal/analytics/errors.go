package analytics

// errorMeanings are the carrier error codes Parley meets most, in the
// words a brand's staff can act on.
var errorMeanings = map[int]string{
	20429: "too many requests at once at the carrier; never processed, retried",
	21211: "not a valid phone number",
	21408: "sending to this region is not enabled on the account",
	21610: "the recipient replied STOP to this sender",
	21611: "the sender's queue at the carrier is full; retried later",
	21614: "not a mobile number (cannot receive texts)",
	30001: "queued too long at the carrier (past the validity period)",
	30003: "the handset is unreachable (off or out of coverage)",
	30004: "blocked by the recipient or their carrier",
	30005: "unknown number: it does not exist or is no longer in service",
	30006: "a landline or a number that cannot receive texts",
	30007: "filtered by the carrier as unwanted (spam): review the content and the volume",
	30008: "unknown error at the recipient's carrier",
	30034: "the sender is not registered for 10DLC (A2P) traffic",
}

// ErrorMeaning is what a carrier error code means, "" for one Parley does
// not describe (its number is still reported).
func ErrorMeaning(code int) string { return errorMeanings[code] }
