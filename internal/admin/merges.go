package admin

import (
	"context"
	"errors"
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// MergesPage is how many merges the merges page shows at a time.
const MergesPage = 50

// RecentMerges lists the merges people made in the console within the undo
// window, newest first, a page at a time: before is the last id of the
// previous page (0 for the first).
func RecentMerges(ctx context.Context, st *store.Store, before int64, now time.Time) ([]store.PersonMerge, error) {
	return st.PersonMerges(ctx, now.Add(-store.MergeUndoWindow), before, MergesPage)
}

// UndoMerge undoes a merge a person made in the console, within 7 days: the
// absorbed customer's phones and conversations (with their messages, notes
// and history, and the texts since from those phones) go back to it. A
// refusal (already undone, too old, a later merge stands over it) is a
// conflict naming why; nothing changes.
func UndoMerge(ctx context.Context, st *store.Store, adminID, mergeID int64, now time.Time) (store.UndoneMerge, error) {
	res, err := st.UndoMerge(ctx, mergeID, adminID, now)
	var refused *store.UndoRefusedError
	if errors.As(err, &refused) {
		return res, conflict("merge", "%s", refused.Reason)
	}
	return res, err
}
