package cli

import (
	"io"
	"net/http"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/plinthai/plinth/client"
)

// unknownFeature marks a value the feature store does not have.
const unknownFeature = "–"

func featuresCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "features", Short: "Read features from the online feature store"}
	lookup := &cobra.Command{
		Use:   "lookup VIEW ENTITY...",
		Short: "Show a feature view's current features of entities, one row per entity",
		Long: `Show a feature view's current features of each entity: a row per entity, a
column per feature, and ` + unknownFeature + ` where a value is unknown (an entity the view has
not seen, or a window without events).`,
		Example: "  plinth features lookup card c1 c2",
		Args:    cobra.MinimumNArgs(2),
		RunE: wrapRun(func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			fv, err := c.LookupFeatures(cmd.Context(), args[0], args[1:])
			if client.IsStatus(err, http.StatusNotFound) {
				return withHint(err, "is the view declared in the server's views file (--features.views-file)?")
			}
			if err != nil {
				return err
			}
			return g.printFeatures(cmd.OutOrStdout(), fv)
		}),
	}
	cmd.AddCommand(lookup)
	return cmd
}

func (g *globals) printFeatures(w io.Writer, fv client.FeatureLookup) error {
	header := append([]string{"ENTITY"}, fv.Names...)
	rows := make([][]string, len(fv.Entities))
	for i, ent := range fv.Entities {
		row := make([]string, 0, len(header))
		row = append(row, ent)
		for j := range fv.Names {
			cell := unknownFeature
			if v, ok := fv.Value(i, j); ok {
				cell = strconv.FormatFloat(v, 'g', -1, 64)
			}
			row = append(row, cell)
		}
		rows[i] = row
	}
	return g.print(w, fv, header, rows)
}
