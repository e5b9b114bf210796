package recommend

import (
	"cmp"
	"maps"
	"slices"
	"time"
)

// Reissue is the demo's drift: a block of new items enters the catalogue
// and takes over the audience of the most-watched ones. From At on, the
// Titles items rated most often after At are re-issued as new editions
// under new ids (Offset + the old id), and every later rating of such a
// title carries its new id; nothing else changes. A model trained before
// At has never seen the new ids, so it can neither recommend them nor fold
// them into a user, while users now rate mostly them: its hit rate drops.
// A model retrained on ratings after At learns them. It is deterministic.
type Reissue struct {
	At     time.Time
	Titles int
	// Offset is added to a re-issued item's id; it must exceed every id
	// of the data (MovieLens 100K's go up to 1682).
	Offset int64
}

// Apply returns a copy of ratings (in time order) with the re-issue
// applied, and the ids it re-issued, ascending. Ties in the count of
// ratings after At go to the lower id.
func (d Reissue) Apply(ratings []Rating) ([]Rating, []int64) {
	counts := map[int64]int{}
	for _, r := range ratings {
		if !r.Time.Before(d.At) {
			counts[r.Item]++
		}
	}
	ids := slices.SortedFunc(maps.Keys(counts), func(a, b int64) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b))
	})
	ids = ids[:min(d.Titles, len(ids))]
	renamed := make(map[int64]bool, len(ids))
	for _, id := range ids {
		renamed[id] = true
	}
	out := slices.Clone(ratings)
	for i := range out {
		if renamed[out[i].Item] && !out[i].Time.Before(d.At) {
			out[i].Item += d.Offset
		}
	}
	slices.Sort(ids)
	return out, ids
}
