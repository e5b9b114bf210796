package registry

import (
	"fmt"
	"slices"
	"strings"

	"github.com/plinthai/plinth/ml/artifact"
)

// Metric names the trainer writes on a version and the gate reads. The
// candidate's own holdout figures use plain names ("auprc", "roc_auc",
// "rmse"); the champion's figures on the same holdout carry
// MetricChampionPrefix ("champion:auprc"), and MetricChampionVersion says
// which version that champion was.
const (
	MetricChampionPrefix  = "champion:"
	MetricChampionVersion = "champion_version"
	// MetricPredictP99US is the candidate's p99 single-row predict latency
	// in microseconds, measured by the trainer.
	MetricPredictP99US = "predict_p99_us"
)

// LowerIsBetter reports whether a smaller value of the metric is better:
// errors and losses (rmse, mae, log_loss, logloss) and latencies (names
// ending in _us or _ms). Floors of such metrics are ceilings, and a
// regression is a rise.
func LowerIsBetter(metric string) bool {
	switch metric {
	case "rmse", "mae", "log_loss", "logloss":
		return true
	}
	return strings.HasSuffix(metric, "_us") || strings.HasSuffix(metric, "_ms")
}

// gateInput is what one evaluation looks at.
type gateInput struct {
	policy    GatePolicy
	candidate Version
	// champion is the current champion version, nil when there is none or
	// the candidate is the champion.
	champion *Version
	// schemas of the candidate and the champion; nil when unknown, with
	// the reason in the matching error.
	candSchema, champSchema []artifact.Field
	candErr, champErr       error
}

// evaluateGate applies the policy. It is a pure function: every check it
// runs is listed in checks, every one that failed in failures.
func evaluateGate(in gateInput) (checks, failures []string) {
	add := func(ok bool, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		checks = append(checks, msg)
		if !ok {
			failures = append(failures, msg)
		}
	}
	checkFloors(in, add)
	checkRegressions(in, add)
	checkLatency(in, add)
	checkSchema(in, add)
	return checks, failures
}

type addFunc func(ok bool, format string, args ...any)

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func checkFloors(in gateInput, add addFunc) {
	for _, m := range sortedKeys(in.policy.Floors) {
		floor := in.policy.Floors[m]
		v, ok := in.candidate.Metrics[m]
		switch {
		case !ok:
			add(false, "%s: the candidate has no such metric (floor %g)", m, floor)
		case LowerIsBetter(m):
			add(v <= floor, "%s %g ≤ ceiling %g", m, v, floor)
		default:
			add(v >= floor, "%s %g ≥ floor %g", m, v, floor)
		}
	}
}

func checkRegressions(in gateInput, add addFunc) {
	if len(in.policy.MaxRegression) == 0 {
		return
	}
	if in.champion == nil {
		add(true, "relative checks: no champion to compare with")
		return
	}
	champ := in.champion.Version
	if got := int64(in.candidate.Metrics[MetricChampionVersion]); got != champ {
		add(false, "relative checks: the candidate was compared with champion version %d on its holdout, the champion is version %d; retrain or re-evaluate", got, champ)
		return
	}
	for _, m := range sortedKeys(in.policy.MaxRegression) {
		eps := in.policy.MaxRegression[m]
		v, okV := in.candidate.Metrics[m]
		c, okC := in.candidate.Metrics[MetricChampionPrefix+m]
		switch {
		case !okV || !okC:
			add(false, "%s: the candidate lacks %s or %s%s", m, m, MetricChampionPrefix, m)
		case LowerIsBetter(m):
			add(v <= c+eps, "%s %g ≤ champion v%d's %g + %g on the same holdout", m, v, champ, c, eps)
		default:
			add(v >= c-eps, "%s %g ≥ champion v%d's %g − %g on the same holdout", m, v, champ, c, eps)
		}
	}
}

func checkLatency(in gateInput, add addFunc) {
	budget := in.policy.LatencyP99US
	if budget <= 0 {
		return
	}
	v, ok := in.candidate.Metrics[MetricPredictP99US]
	if !ok {
		add(false, "latency: the candidate has no %s (budget %g µs)", MetricPredictP99US, budget)
		return
	}
	add(v <= budget, "latency p99 %g µs ≤ budget %g µs", v, budget)
}

func checkSchema(in gateInput, add addFunc) {
	if in.policy.SkipSchemaCheck || in.champion == nil {
		return
	}
	if in.candErr != nil || in.champErr != nil {
		add(false, "schema: cannot compare: %v", firstNonNil(in.candErr, in.champErr))
		return
	}
	problems := schemaProblems(in.candSchema, in.champSchema)
	add(len(problems) == 0, "schema: every input of the candidate is sent to champion v%d with the same type%s",
		in.champion.Version, listSuffix(problems))
}

// schemaProblems lists why rows made for the champion's schema cannot feed
// the candidate: an input the champion's callers do not send, or one sent
// with another type. Inputs the candidate drops are fine.
func schemaProblems(cand, champ []artifact.Field) []string {
	byName := make(map[string]artifact.Field, len(champ))
	for _, f := range champ {
		byName[f.Name] = f
	}
	var out []string
	for _, f := range cand {
		c, ok := byName[f.Name]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("input %q is new", f.Name))
		case c.Type != f.Type:
			out = append(out, fmt.Sprintf("input %q changed type from %s to %s", f.Name, c.Type, f.Type))
		}
	}
	return out
}

func listSuffix(problems []string) string {
	if len(problems) == 0 {
		return ""
	}
	return ": " + strings.Join(problems, "; ")
}

func firstNonNil(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
