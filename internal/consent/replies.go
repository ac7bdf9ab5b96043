package consent

import "fmt"

// Reply is the compliance text Parley answers an action with, or "" for none.
// helpText is the brand's configured HELP answer; a sensible default is used
// when it is empty.
func Reply(a Action, brandName, helpText string) string {
	switch a {
	case OptOut:
		return fmt.Sprintf("%s: You are unsubscribed and will receive no more messages. Reply START to resubscribe.", brandName)
	case OptIn:
		return fmt.Sprintf("%s: You are resubscribed to messages. Reply HELP for help, STOP to opt out.", brandName)
	case Help:
		if helpText != "" {
			return helpText
		}
		return fmt.Sprintf("%s: Reply to this message to reach our team. Msg&data rates may apply. Reply STOP to opt out.", brandName)
	}
	return ""
}
