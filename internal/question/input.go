package question

import (
	"errors"
	"strings"
	"time"

	"github.com/parleyhq/parley/internal/personalize"
	"github.com/parleyhq/parley/internal/store"
)

// DefaultWindow is how long a question waits for its answer.
const DefaultWindow = 48 * time.Hour

// Input is a question as the API and the console give it: on a trigger
// rule, a campaign, an agent's or an API text, or the after-conversation
// survey.
type Input struct {
	ID      int64    `json:"id,omitempty"`
	Kind    string   `json:"kind"`
	Scale   int      `json:"scale,omitempty"`
	Choices []string `json:"choices,omitempty"`
	// Window is how long the next text counts as the answer (default 48h).
	Window string `json:"window,omitempty"`
	// FollowUps are texts sent back, by exact answer ("5", "yes", a
	// choice's number) or by kind of answer (positive, negative, unparsed).
	FollowUps map[string]string `json:"follow_ups,omitempty"`
	// NoIsNegative: a yes/no question whose "no" needs a person.
	NoIsNegative bool `json:"no_is_negative,omitempty"`
}

// Check validates the input and returns the question to store for brand
// brandID. A problem is a *SpecError naming the field ("kind", "scale",
// "choices", "window", "follow_ups.<key>").
func (in Input) Check(brandID int64) (store.Question, error) {
	spec := Spec{Kind: Kind(strings.TrimSpace(in.Kind)), Scale: in.Scale, Choices: in.Choices}
	if err := spec.Validate(); err != nil {
		return store.Question{}, err
	}
	if spec.Kind == Rating && spec.Scale == 0 {
		spec.Scale = 5
	}
	window := DefaultWindow
	if w := strings.TrimSpace(in.Window); w != "" {
		d, err := time.ParseDuration(w)
		if err != nil || d <= 0 || d > 30*24*time.Hour {
			return store.Question{}, &SpecError{"window", "a duration from 1s to 720h, such as \"48h\""}
		}
		window = d
	}
	for k, v := range in.FollowUps {
		if _, err := personalize.Parse(v); err != nil {
			return store.Question{}, &SpecError{"follow_ups." + k, err.Error()}
		}
	}
	return store.Question{BrandID: brandID, Kind: string(spec.Kind), Scale: spec.Scale, Choices: spec.Choices, Window: window,
		FollowUps: in.FollowUps, NoIsNegative: in.NoIsNegative}, nil
}

// FieldOf is the field a question error names ("" if it is not one).
func FieldOf(err error) (field, msg string) {
	var se *SpecError
	if errors.As(err, &se) {
		return se.Field, se.Msg
	}
	return "", ""
}
