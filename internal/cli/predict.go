package cli

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/plinthai/plinth/client"
)

type predictFlags struct {
	features   []string
	entity, id string
	version    int64
}

func predictCommand(g *globals) *cobra.Command {
	var pf predictFlags
	cmd := &cobra.Command{
		Use:   "predict MODEL",
		Short: "Ask a model for a prediction from named features, an entity's stored features, or both",
		Long: `Ask a model for one prediction. Name features with --feature NAME=VALUE (a
number, true, false, or null for a missing value), an entity with --entity
whose features come from the model's feature view, or both: named features
override looked-up ones. The traffic split picks the version unless --version
pins one. Prints the score, the version and the traffic arm that served it, or
the recommended items of a recommender.`,
		Example: "  plinth predict fraud --feature amount=12.5 --feature online=true\n  plinth predict fraud --entity c1 --version 3",
		Args:    cobra.ExactArgs(1),
		RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
			req, err := pf.request()
			if err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			p, err := c.Predict(cmd.Context(), args[0], req)
			if client.IsStatus(err, http.StatusNotFound) {
				return withHint(err, fmt.Sprintf("check the model name, and that it has a champion (`plinth aliases get %s champion`) or pin a --version", args[0]))
			}
			if err != nil {
				return err
			}
			return g.printPrediction(cmd.OutOrStdout(), p)
		}),
	}
	f := cmd.Flags()
	f.StringArrayVar(&pf.features, "feature", nil, "feature NAME=VALUE, repeatable; VALUE null is a missing value")
	f.StringVar(&pf.entity, "entity", "", "entity key: its features come from the model's feature view, and it keys the sticky traffic split")
	f.Int64Var(&pf.version, "version", 0, "pin this version (default: the traffic split decides)")
	f.StringVar(&pf.id, "id", "", "prediction id, echoed and kept in the prediction log")
	return cmd
}

func (pf predictFlags) request() (client.PredictRequest, error) {
	if len(pf.features) == 0 && pf.entity == "" {
		return client.PredictRequest{}, fmt.Errorf("nothing to predict from: name features with --feature NAME=VALUE, an entity with --entity, or both")
	}
	if pf.version < 0 {
		return client.PredictRequest{}, fmt.Errorf("--version %d: want a positive version", pf.version)
	}
	req := client.PredictRequest{ID: pf.id, Entity: pf.entity, Version: pf.version}
	if len(pf.features) == 0 {
		return req, nil
	}
	named := make(map[string]*float64, len(pf.features))
	for _, kv := range pf.features {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return req, fmt.Errorf("--feature %q: want NAME=VALUE, such as amount=12.5", kv)
		}
		v, err := featureValue(value)
		if err != nil {
			return req, fmt.Errorf("--feature %s: %w", kv, err)
		}
		named[name] = v
	}
	req.Features = named
	return req, nil
}

// featureValue parses a number, a boolean (1 or 0), or null (missing).
func featureValue(s string) (*float64, error) {
	var v float64
	switch strings.ToLower(s) {
	case "null":
		return nil, nil
	case "true":
		v = 1
	case "false":
		v = 0
	default:
		var err error
		if v, err = strconv.ParseFloat(s, 64); err != nil {
			return nil, fmt.Errorf("want a number, true, false or null")
		}
	}
	return &v, nil
}

func (g *globals) printPrediction(w io.Writer, p client.Prediction) error {
	version := strconv.FormatInt(p.Version, 10)
	if p.Score != nil || len(p.Items) == 0 {
		score := ""
		if p.Score != nil {
			score = strconv.FormatFloat(*p.Score, 'g', -1, 64)
		}
		return g.print(w, p, []string{"MODEL", "VERSION", "ARM", "SCORE", "ID"}, [][]string{{p.Model, version, p.Arm, score, p.ID}})
	}
	if g.output == OutputJSON {
		return g.print(w, p, nil, nil)
	}
	fmt.Fprintf(w, "model %s, version %s, arm %s, id %s\n", p.Model, version, p.Arm, p.ID)
	rows := make([][]string, len(p.Items))
	for i, item := range p.Items {
		score := ""
		if i < len(p.Scores) {
			score = strconv.FormatFloat(p.Scores[i], 'g', -1, 64)
		}
		rows[i] = []string{strconv.Itoa(i + 1), item, score}
	}
	return g.print(w, p, []string{"RANK", "ITEM", "SCORE"}, rows)
}
