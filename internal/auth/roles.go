package auth

// Permission is something a console route needs.
type Permission string

// The permissions of the console.
const (
	Inbox     Permission = "inbox"     // read conversations, reply, notes, assign
	Contacts  Permission = "contacts"  // read contacts
	Marketing Permission = "marketing" // contacts, campaigns, triggers, reports
	Admin     Permission = "admin"     // users, brands, numbers, API keys, settings
	Account   Permission = "account"   // one's own password and presence
)

var roles = map[string]map[Permission]bool{
	"admin":    {Inbox: true, Contacts: true, Marketing: true, Admin: true, Account: true},
	"agent":    {Inbox: true, Contacts: true, Account: true},
	"marketer": {Contacts: true, Marketing: true, Account: true},
}

// Can reports whether role has permission p.
func Can(role string, p Permission) bool { return roles[role][p] }
