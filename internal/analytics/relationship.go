package analytics

import (
	"time"

	"github.com/parleyhq/parley/internal/store"
)

// RelationshipBucket is how customers answered what the brand started in
// one bucket: proactive texts (triggers) and the replies within 48 hours,
// questions asked and answered, and opt-outs against the texts sent.
type RelationshipBucket struct {
	ProactiveSent, ProactiveReplied   int
	QuestionsAsked, QuestionsAnswered int
	Outbound, OptOuts, OptIns         int
}

// Relationship puts the period's counts in the buckets starts (Buckets)
// of a period ending at end.
func Relationship(rel store.Relationship, vol []store.VolumeCount, consent []store.ConsentCount, starts []time.Time, end time.Time) []RelationshipBucket {
	out := make([]RelationshipBucket, len(starts))
	at := func(t time.Time) *RelationshipBucket {
		if i := Index(starts, end, t); i >= 0 {
			return &out[i]
		}
		return nil
	}
	for _, p := range rel.Proactive {
		if b := at(p.Slot); b != nil {
			b.ProactiveSent += p.Sent
			b.ProactiveReplied += p.Answered
		}
	}
	for _, q := range rel.Questions {
		if b := at(q.Slot); b != nil {
			b.QuestionsAsked += q.Sent
			b.QuestionsAnswered += q.Answered
		}
	}
	for _, v := range vol {
		if b := at(v.Slot); b != nil && v.Direction == "outbound" {
			b.Outbound += v.N
		}
	}
	for _, e := range consent {
		if b := at(e.Slot); b != nil {
			if e.Status == "opted_out" {
				b.OptOuts += e.N
			} else {
				b.OptIns += e.N
			}
		}
	}
	return out
}

// Rate is part / whole, false when whole is 0.
func Rate(part, whole int) (float64, bool) {
	if whole == 0 {
		return 0, false
	}
	return float64(part) / float64(whole), true
}
