package rollout

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/plinthai/plinth/internal/platform/sqlstore"
)

// leaseName is the one lease of the rollout controllers.
const leaseName = "rollout-controller"

// errLeaseLost means this controller does not hold the lease (any more);
// whatever it was about to persist is dropped.
var errLeaseLost = errors.New("rollout controller lease not held")

// acquire takes or renews the lease for holder until now+ttl. It succeeds
// when the lease is free, expired, or already holder's; otherwise it
// returns false. Taking a lease over bumps its epoch.
func acquire(ctx context.Context, db *sqlstore.DB, holder string, now time.Time, ttl time.Duration) (bool, error) {
	var held bool
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var cur string
		var expires, epoch int64
		err := tx.QueryRowContext(ctx, `SELECT holder, expires_at, epoch FROM rollout_lease WHERE name = $1`, leaseName).
			Scan(&cur, &expires, &epoch)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO rollout_lease (name, holder, expires_at, epoch) VALUES ($1, $2, $3, 1)
				ON CONFLICT (name) DO NOTHING`, leaseName, holder, micros(now.Add(ttl)))
			held = err == nil
			return err
		case err != nil:
			return err
		case cur != holder && expires > micros(now):
			return nil
		}
		if cur != holder {
			epoch++
		}
		res, err := tx.ExecContext(ctx, `UPDATE rollout_lease SET holder = $2, expires_at = $3, epoch = $4
			WHERE name = $1 AND holder = $5 AND expires_at = $6`, leaseName, holder, micros(now.Add(ttl)), epoch, cur, expires)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		held = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("acquire rollout lease: %w", err)
	}
	return held, nil
}

// checkLease fails with errLeaseLost unless holder holds an unexpired
// lease; called inside every transaction that persists saga progress, so
// a controller that lost its lease cannot record anything.
func checkLease(ctx context.Context, tx *sql.Tx, holder string, now time.Time) error {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM rollout_lease WHERE name = $1 AND holder = $2 AND expires_at > $3`,
		leaseName, holder, micros(now)).Scan(&n)
	if err != nil {
		return fmt.Errorf("check rollout lease: %w", err)
	}
	if n != 1 {
		return errLeaseLost
	}
	return nil
}

// release gives the lease up, so a replica takes over at once after a
// clean stop.
func release(ctx context.Context, db *sqlstore.DB, holder string) error {
	_, err := db.ExecContext(ctx, `UPDATE rollout_lease SET expires_at = 0 WHERE name = $1 AND holder = $2`, leaseName, holder)
	if err != nil {
		return fmt.Errorf("release rollout lease: %w", err)
	}
	return nil
}
