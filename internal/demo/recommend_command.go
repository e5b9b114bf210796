package demo

import (
	"context"

	"github.com/spf13/cobra"
)

func recommendCommand(ctx context.Context) *cobra.Command {
	var dataDir, ratings string
	cmd := &cobra.Command{
		Use:   "recommend",
		Short: "Movie recommendations: first model, live traffic, new titles → retrain → canary → champion, and a stale candidate rolled back",
		Long: `Run the recommendation product's loop on embedded defaults over MovieLens
100K, replayed in time order and accelerated: ratings stream in, the
feature store keeps each user's recent items, and at every returning
visit the champion folds the user in from them and recommends ten items
they have not rated; what they rate next is the feedback (HR@10). The
first model (implicit ALS) is trained, gated and promoted; then a block
of new titles takes over the most watched ones, the monitor sees the
model's live HR@10 decay and queues a retrain, which goes through its
gate and a canary to champion; finally a candidate trained on the stale
ratings before the new titles passes its gate but is rolled back by the
canary on live traffic, without the champion moving. The ratings come
from ../shared/datasets (or PLINTH_DATASETS), else from GroupLens after
their terms are shown. Exits non-zero naming the phase that did not reach
its outcome.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, cleanup, err := dataDirectory(dataDir)
			if err != nil {
				return err
			}
			defer cleanup()
			out := cmd.OutOrStdout()
			rep, err := RunRecommend(ctx, RecommendOptions{Options: Options{DataDir: dir, Out: out, Live: isTerminal(out)}, Ratings: ratings})
			printReport(cmd, dir, Report{Phases: rep.Phases, ToPromotion: rep.ToPromotion, Total: rep.Total})
			recommendSummary(out, rep)
			return err
		},
	}
	cmd.Flags().StringVar(&dataDir, "data.dir", "", "directory for the platform's state (default: a fresh temporary directory, removed at the end)")
	cmd.Flags().StringVar(&ratings, "ratings", "", "MovieLens 100K's u.data, plain or gzip (default: the shared data sets, else downloaded)")
	return cmd
}
