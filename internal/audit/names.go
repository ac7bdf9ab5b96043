package audit

import "strings"

// consoleActions names the console's changes; a route not listed is named
// by its path (ActionOf). POST routes that change nothing are absent from
// the log (quiet).
var consoleActions = map[string]string{
	"POST /logout":                               "logout",
	"POST /conversations/:id/reply":              "reply",
	"POST /conversations/:id/notes":              "note",
	"POST /conversations/:id/assign":             "assign",
	"POST /conversations/:id/close":              "close",
	"POST /conversations/:id/reopen":             "reopen",
	"POST /conversations/:id/snooze":             "snooze",
	"POST /conversations/:id/labels":             "labels",
	"POST /conversations/:id/survey":             "survey",
	"POST /conversations/:id/link":               "merge",
	"POST /admin/users":                          "user.invite",
	"POST /admin/users/:id":                      "user.update",
	"POST /admin/brands":                         "brand.create",
	"POST /admin/brands/:slug":                   "brand.update",
	"POST /admin/brands/:slug/numbers":           "number.add",
	"POST /admin/brands/:slug/numbers/delete":    "number.remove",
	"POST /admin/api-keys":                       "api_key.create",
	"POST /admin/api-keys/:id/revoke":            "api_key.revoke",
	"POST /admin/canned":                         "canned.create",
	"POST /admin/canned/:id/delete":              "canned.delete",
	"POST /admin/routing/:slug/settings":         "settings.update",
	"POST /admin/routing/:slug/rules":            "rule.create",
	"POST /admin/routing/:slug/rules/:id":        "rule.update",
	"POST /admin/routing/:slug/rules/:id/delete": "rule.delete",
	"POST /admin/merges/:id/undo":                "merge.undo",
	"POST /campaigns":                            "campaign.create",
	"POST /campaigns/:id/schedule":               "campaign.schedule",
	"POST /campaigns/:id/pause":                  "campaign.pause",
	"POST /campaigns/:id/resume":                 "campaign.resume",
	"POST /campaigns/:id/cancel":                 "campaign.cancel",
	"POST /campaigns/:id/test":                   "campaign.test",
	"POST /contacts/import":                      "contacts.import",
	"POST /triggers":                             "trigger.create",
	"POST /triggers/:id/delete":                  "trigger.delete",
	"POST /account/password":                     "account.password",
	"POST /account/presence":                     "account.presence",
}

// quiet are POST routes that only read (a live count): not actions.
var quiet = map[string]bool{"POST /campaigns/audience-count": true}

// Recorded reports whether a console request to method and route (echo's
// path template) is an action the log keeps: every change, never a read.
func Recorded(method, route string) bool {
	if method == "GET" || method == "HEAD" || method == "OPTIONS" {
		return false
	}
	return !quiet[method+" "+route]
}

// ActionOf names a console action: the table's name, else the route's
// fixed words joined by dots ("POST /admin/webhooks/:id/delete" is
// "admin.webhooks.delete").
func ActionOf(method, route string) string {
	if a, ok := consoleActions[method+" "+route]; ok {
		return a
	}
	var words []string
	for _, s := range strings.Split(strings.Trim(route, "/"), "/") {
		if s != "" && !strings.HasPrefix(s, ":") {
			words = append(words, s)
		}
	}
	if method != "POST" || len(words) == 0 {
		words = append(words, strings.ToLower(method))
	}
	return strings.Join(words, ".")
}

// APIActionOf names an API write: "api." and the route below /api/v1 with
// its method ("POST /api/v1/campaigns/:id/pause" is
// "api.post:/campaigns/:id/pause"), so that each route has one name.
func APIActionOf(method, route string) string {
	return "api." + strings.ToLower(method) + ":" + strings.TrimPrefix(route, "/api/v1")
}

// TargetOf is what a route acted on: the resource before its last
// parameter and that parameter's value ("/conversations/:id/close" with id
// 12 is "conversation:12", "/admin/brands/:slug/numbers" with slug demoair
// is "brand:demoair"); "" when the route has no parameter.
func TargetOf(route string, param func(name string) string) string {
	segs := strings.Split(strings.Trim(route, "/"), "/")
	for i := len(segs) - 1; i > 0; i-- {
		if !strings.HasPrefix(segs[i], ":") {
			continue
		}
		return singular(segs[i-1]) + ":" + param(segs[i][1:])
	}
	return ""
}

func singular(s string) string {
	switch {
	case s == "routing":
		return "brand"
	case strings.HasSuffix(s, "ies"):
		return strings.TrimSuffix(s, "ies") + "y"
	case strings.HasSuffix(s, "s"):
		return strings.TrimSuffix(s, "s")
	}
	return s
}
