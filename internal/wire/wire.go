// Package wire defines the messages that cross service boundaries on the
// event bus, and the shapes of the in-process calls between services. The
// stream names and these JSON forms are contracts: add fields, never
// rename or repurpose one.
//
//	stream       subject                    message
//	EVENTS       events.<stream>            the ingested event (its own JSON)
//	FEEDBACK     feedback.<model>           Feedback
//	PREDICTIONS  predictions.<model>        PredictionLog, or a JSON array of them
//	MODELS       models.<model>.<event>     registry.Event and rollout events
//	JOBS         jobs.train.<model>         TrainJob
package wire

import (
	"strings"
	"time"
)

// Token writes a name as one NATS subject token: a dot would split it, so
// it becomes "~", which no Plinth name contains.
func Token(name string) string { return strings.ReplaceAll(name, ".", "~") }

// PredictionSubject is the PREDICTIONS subject of a model.
func PredictionSubject(model string) string { return "predictions." + Token(model) }

// FeedbackSubject is the FEEDBACK subject of a model.
func FeedbackSubject(model string) string { return "feedback." + Token(model) }

// TrainJobSubject is the JOBS subject of a model's training jobs.
func TrainJobSubject(model string) string { return "jobs.train." + Token(model) }

// EventSubject is the EVENTS subject of an ingest stream.
func EventSubject(stream string) string { return "events." + Token(stream) }

// Traffic arms a prediction is served by.
const (
	ArmChampion   = "champion"
	ArmChallenger = "challenger" // canary share of live traffic
	ArmShadow     = "shadow"     // scored alongside, never answered
	ArmPinned     = "pinned"     // the caller named the version
)

// PredictionLog is one prediction, published to PREDICTIONS off the
// response path (sampled, and dropped and counted when the bus is slow).
// A message holds one as a JSON object, or several of one model as a JSON
// array (the inference service sends a batch's logs so: the bus then
// costs one message per batch, not per prediction); DecodePredictionLogs
// reads both.
type PredictionLog struct {
	// ID identifies the prediction; feedback may name it.
	ID      string `json:"id"`
	Model   string `json:"model"`
	Version int64  `json:"version"`
	Arm     string `json:"arm"`
	// Entity is the entity key the request named, if any (card id, user id).
	Entity string `json:"entity,omitempty"`
	// Features holds the inputs by name when the model logs full features;
	// FeaturesHash a hash of them otherwise.
	Features     map[string]float64 `json:"features,omitempty"`
	FeaturesHash string             `json:"features_hash,omitempty"`
	// Output is the model's output: one score for a binary classifier or a
	// regressor; Items lists recommended item ids for a recommender.
	Output    []float64 `json:"output,omitempty"`
	Items     []string  `json:"items,omitempty"`
	LatencyUS int64     `json:"latency_us"`
	Error     string    `json:"error,omitempty"`
	At        time.Time `json:"at"`
}

// Feedback is ground truth that arrives after the prediction, on FEEDBACK.
// It names the prediction it judges, or the entity and the time of the
// event it labels, for the monitor to join within a window.
type Feedback struct {
	// ID identifies this label, for idempotent consumers.
	ID           string    `json:"id"`
	Model        string    `json:"model"`
	PredictionID string    `json:"prediction_id,omitempty"`
	Entity       string    `json:"entity,omitempty"`
	EventTime    time.Time `json:"event_time,omitzero"`
	// Label is the truth: 0/1 for classifiers, a value for regressors.
	Label float64 `json:"label"`
	// Items are the items the user went on to consume (recommenders).
	Items []string  `json:"items,omitempty"`
	At    time.Time `json:"at"`
}

// TrainJob is a training request on the JOBS work queue. ID makes it
// idempotent: a job id registers at most one model version.
type TrainJob struct {
	ID        string            `json:"id"`
	Model     string            `json:"model"`
	Algorithm string            `json:"algorithm"` // gbdt, linear, iforest, mf.sgd, mf.als
	Params    map[string]string `json:"params,omitempty"`
	Data      TrainData         `json:"data"`
	// Reason says why the job exists: manual, schedule, drift, decay.
	Reason      string    `json:"reason,omitempty"`
	RequestedBy string    `json:"requested_by,omitempty"`
	At          time.Time `json:"at"`
}

// TrainData names a job's data: an uploaded file (an artifact sha256 in the
// blob store, CSV with a header) or a point-in-time training set built from
// a feature view joined with FEEDBACK labels over a time range.
type TrainData struct {
	FileSHA256 string    `json:"file_sha256,omitempty"`
	Label      string    `json:"label,omitempty"` // label column of a file
	View       string    `json:"view,omitempty"`
	From       time.Time `json:"from,omitzero"`
	To         time.Time `json:"to,omitzero"`
	// Split is "time" (the default: the last Holdout share by time is the
	// holdout) or "random".
	Split   string  `json:"split,omitempty"`
	Holdout float64 `json:"holdout,omitempty"`
}

// FeatureValues answers an online feature lookup: for entity i, feature j
// is Values[i*len(Names)+j], NaN when unknown; Found[i] is false for an
// entity the view has never seen.
type FeatureValues struct {
	View     string    `json:"view"`
	Names    []string  `json:"names"`
	Entities []string  `json:"entities"`
	Values   []float64 `json:"values"`
	Found    []bool    `json:"found"`
}

// Canary verdict decisions.
const (
	VerdictWait     = "wait"     // not enough evidence yet
	VerdictPromote  = "promote"  // the challenger is at least as good
	VerdictRollback = "rollback" // the challenger is worse or failing
)

// CanaryVerdict is the monitor's judgement of a challenger against the
// champion on live traffic, as the rollout saga asks for it: quality on
// joined feedback (for example AUPRC for a classifier, HR@10 for a
// recommender), error rate and latency, each with its sample count.
type CanaryVerdict struct {
	Model      string `json:"model"`
	Champion   int64  `json:"champion"`
	Challenger int64  `json:"challenger"`
	Decision   string `json:"decision"`
	Reason     string `json:"reason"`
	// Metric names the quality measure compared; the values are over the
	// joined samples of each arm in the current window.
	Metric            string    `json:"metric"`
	ChampionValue     float64   `json:"champion_value"`
	ChallengerValue   float64   `json:"challenger_value"`
	ChampionSamples   int       `json:"champion_samples"`
	ChallengerSamples int       `json:"challenger_samples"`
	ChallengerP99MS   float64   `json:"challenger_p99_ms"`
	ChampionP99MS     float64   `json:"champion_p99_ms"`
	At                time.Time `json:"at"`
}
