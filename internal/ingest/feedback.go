package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/wire"
)

// feedbackScope scopes the JetStream message ids of labels ("feedback/<id>"),
// so a label sent again within the duplicate window is stored once.
const feedbackScope = "feedback"

// maxFeedbackID bounds a label's id.
const maxFeedbackID = 255

var modelNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// feedbackBody is one label as a client sends it. Model comes from the
// path; At, when absent, is the time of intake.
type feedbackBody struct {
	ID           string    `json:"id"`
	Model        string    `json:"model"`
	PredictionID string    `json:"prediction_id"`
	Entity       string    `json:"entity"`
	EventTime    time.Time `json:"event_time"`
	Label        *float64  `json:"label"`
	Items        []string  `json:"items"`
	At           time.Time `json:"at"`
}

// Feedback checks each label (one JSON object each) of model and publishes
// the valid ones to FEEDBACK (feedback.<model>), where the monitor joins
// them to predictions and the trainer reads them. A label names its id,
// the prediction it judges (prediction_id) or the entity and the time of
// the judged event (entity and event_time), and its truth: label (0/1 for
// classifiers, a value for regressors) or items (consumed, for
// recommenders). The result and errors are those of Ingest; an invalid
// model name is a field error on "model".
func (s *Service) Feedback(ctx context.Context, model string, labels [][]byte) (Result, error) {
	if !modelNameRE.MatchString(model) {
		return Result{}, problem.Field("model", "%q must match %s", model, modelNameRE)
	}
	if len(labels) > s.cfg.MaxBatch {
		return Result{}, tooMany(len(labels), s.cfg.MaxBatch)
	}
	res := Result{Rejected: []Rejection{}}
	now := s.now().UTC()
	valid, index := make([]Event, 0, len(labels)), make([]int, 0, len(labels))
	for i, raw := range labels {
		ev, err := s.checkFeedback(raw, model, now)
		if err != nil {
			var fe *problem.FieldError
			errors.As(err, &fe)
			res.Rejected = append(res.Rejected, Rejection{Index: i, Field: fe.Field, Reason: fe.Reason})
			continue
		}
		valid, index = append(valid, ev), append(index, i)
	}
	st := &Stream{Name: feedbackScope, IDField: "id", subject: s.bus.Subject(wire.FeedbackSubject(model))}
	busy, err := s.publish(ctx, st, valid, index, &res)
	slices.SortFunc(res.Rejected, func(a, b Rejection) int { return a.Index - b.Index })
	s.metrics.count(feedbackScope, &res, busy)
	return res, err
}

// checkFeedback validates one label and returns it re-encoded as the
// wire.Feedback the consumers read. Errors are *problem.FieldError.
func (s *Service) checkFeedback(raw []byte, model string, now time.Time) (Event, error) {
	if len(raw) > s.cfg.MaxEventBytes {
		return Event{}, problem.Field("body", "label of %d bytes is over the limit of %d", len(raw), s.cfg.MaxEventBytes)
	}
	var b feedbackBody
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return Event{}, feedbackDecodeError(err)
	}
	if dec.More() {
		return Event{}, problem.Field("body", "one JSON object per label")
	}
	if err := checkFeedbackFields(&b, model); err != nil {
		return Event{}, err
	}
	if b.At.IsZero() {
		b.At = now
	}
	fb := wire.Feedback{ID: b.ID, Model: model, PredictionID: b.PredictionID, Entity: b.Entity, EventTime: b.EventTime.UTC(),
		Items: b.Items, At: b.At.UTC()}
	if b.Label != nil {
		fb.Label = *b.Label
	}
	data, err := json.Marshal(fb)
	if err != nil {
		return Event{}, problem.Field("body", "%v", err)
	}
	return Event{Data: data, Time: fb.At, ID: []byte(fb.ID)}, nil
}

func checkFeedbackFields(b *feedbackBody, model string) error {
	switch {
	case b.ID == "":
		return problem.Field("id", "required: it makes a label sent twice count once")
	case len(b.ID) > maxFeedbackID:
		return problem.Field("id", "%d bytes, more than %d", len(b.ID), maxFeedbackID)
	case b.Model != "" && b.Model != model:
		return problem.Field("model", "%q, but the path names %q", b.Model, model)
	case b.PredictionID == "" && b.Entity == "":
		return problem.Field("prediction_id", "name the prediction judged, or the entity and event_time")
	case b.PredictionID == "" && b.EventTime.IsZero():
		return problem.Field("event_time", "required to join a label by entity")
	case b.Label == nil && b.Items == nil:
		return problem.Field("label", "required (or items, for a recommender)")
	case b.Label != nil && (math.IsNaN(*b.Label) || math.IsInf(*b.Label, 0)):
		return problem.Field("label", "must be a finite number")
	}
	for i, it := range b.Items {
		if it == "" {
			return problem.Field(fmt.Sprintf("items[%d]", i), "must not be empty")
		}
	}
	return nil
}

// feedbackDecodeError names the field a JSON decoding error is about.
func feedbackDecodeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return problem.Field(te.Field, "want %s, got JSON %s", te.Type, te.Value)
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return problem.Field("body", "event_time and at are RFC 3339 times: %v", err)
	}
	if name, ok := strings.CutPrefix(err.Error(), `json: unknown field "`); ok {
		return problem.Field(strings.TrimSuffix(name, `"`), "not a field of a label")
	}
	return problem.Field("body", "not a JSON object: %v", err)
}
