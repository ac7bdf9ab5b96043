package console

// flashes are the only notes a page shows from its ?flash= parameter: a
// code from this table picks a fixed sentence, and anything else shows
// nothing, so no one can put words of their choosing into the console
// through a link.
var flashes = map[string]string{
	"assigned":           "Assignment saved",
	"note_added":         "Note added",
	"labels_saved":       "Labels saved",
	"closed":             "Conversation closed",
	"reopened":           "Conversation reopened",
	"snoozed":            "Conversation snoozed",
	"reply_queued":       "Reply queued",
	"linked":             "Linked to the loyalty member",
	"canned_saved":       "Canned response saved",
	"canned_deleted":     "Canned response deleted",
	"brand_saved":        "Brand saved",
	"brand_created":      "Brand created; add a number to it",
	"number_saved":       "Number saved",
	"number_removed":     "Number removed",
	"user_saved":         "User saved",
	"key_revoked":        "API key revoked",
	"settings_saved":     "Settings saved",
	"rule_saved":         "Auto-reply saved",
	"rule_deleted":       "Auto-reply deleted",
	"merge_undone":       "Merge undone: the customer has their phones and conversations back",
	"password_changed":   "Password changed; your other sessions were signed out",
	"campaign_created":   "Campaign saved as a draft: check the estimate, then schedule it",
	"campaign_scheduled": "Campaign scheduled",
	"campaign_paused":    "Campaign paused: nothing more goes until you resume it",
	"campaign_resumed":   "Campaign resumed where it stopped",
	"campaign_canceled":  "Campaign canceled",
	"campaign_test_sent": "Test text queued: it goes to that phone in a moment",
	"survey_sent":        "Survey sent: the answer shows on the contact panel",
	"trigger_saved":      "Trigger saved: matching events now schedule its text",
	"trigger_deleted":    "Trigger deleted: its scheduled texts will be skipped",
}

// flashText is the sentence of a flash code, "" for an unknown one.
func flashText(code string) string { return flashes[code] }
