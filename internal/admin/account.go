package admin

import (
	"context"
	"slices"

	"github.com/parleyhq/parley/internal/store"
)

// Presences a user can set; the console shows them beside each agent (who
// can take a conversation now) and orders the assign menu by them.
var Presences = []string{"online", "away", "offline"}

// SetPresence records a user's own presence.
func SetPresence(ctx context.Context, st *store.Store, userID int64, presence string) error {
	if !slices.Contains(Presences, presence) {
		return invalid("presence", "%q must be online, away or offline", presence)
	}
	return st.SetPresence(ctx, userID, presence)
}

// CheckPasswordChange checks a password form before the current password is
// verified (internal/auth does that, and the length rule): every field
// filled in, the new password typed twice alike, and different from the
// current one.
func CheckPasswordChange(current, next, confirm string) error {
	switch {
	case current == "":
		return invalid("current_password", "required")
	case next == "":
		return invalid("new_password", "required")
	case confirm != next:
		return invalid("confirm_password", "does not match the new password")
	case next == current:
		return invalid("new_password", "must differ from the current password")
	}
	return nil
}
