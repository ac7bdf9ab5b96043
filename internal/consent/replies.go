package consent

import (
	"fmt"
	"time"
)

// DoubleOptInWindow is how long a customer has to confirm a Join with YES.
const DoubleOptInWindow = 24 * time.Hour

// JoinPrompt asks a customer who texted the brand's opt-in keyword to
// confirm.
func JoinPrompt(brandName string) string {
	return fmt.Sprintf("Reply YES to get offers from %s. Msg&data rates may apply. Reply STOP to cancel.", brandName)
}

// JoinConfirmation answers the YES that completes a double opt-in.
func JoinConfirmation(brandName string) string {
	return fmt.Sprintf("%s: Thanks, you will get our offers. Msg&data rates may apply. Reply HELP for help, STOP to cancel.", brandName)
}

// Reply is the compliance text Parley answers an action with, or "" for none.
// helpText is the brand's configured HELP answer; a sensible default is used
// when it is empty.
func Reply(a Action, brandName, helpText string) string {
	switch a {
	case OptOut:
		return fmt.Sprintf("%s: You are unsubscribed and will receive no more messages. Reply START to resubscribe.", brandName)
	case OptIn:
		return fmt.Sprintf("%s: You are resubscribed to messages. Reply HELP for help, STOP to opt out.", brandName)
	case Join:
		return JoinPrompt(brandName)
	case Help:
		if helpText != "" {
			return helpText
		}
		return fmt.Sprintf("%s: Reply to this message to reach our team. Msg&data rates may apply. Reply STOP to opt out.", brandName)
	}
	return ""
}
