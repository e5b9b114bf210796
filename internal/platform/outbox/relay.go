package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"

	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/platform/sqlstore"
)

// maxBackoff bounds the wait between retries after bus errors.
const maxBackoff = 10 * time.Second

// Publisher publishes one message and waits for the bus's acknowledgement;
// subject is given without prefix and msgID deduplicates. *bus.Bus
// satisfies it.
type Publisher interface {
	Publish(ctx context.Context, subject string, data []byte, msgID string, hdr nats.Header) (*jetstream.PubAck, error)
}

var _ Publisher = (*bus.Bus)(nil)

// Relay publishes committed outbox rows. Run drives it; PublishPending and
// Notify are safe to call concurrently with Run and with each other.
type Relay struct {
	db     *sqlstore.DB
	pub    Publisher
	cfg    RelayConfig
	logger *slog.Logger
	notify chan struct{}

	instanceMu sync.Mutex
	instance   string // the database's outbox id, loaded on first use

	published prometheus.Counter
	errors    prometheus.Counter
	pending   prometheus.Gauge

	// afterPublish, when set, runs after a row is published and before it is
	// marked; an error stops the pass there. Tests use it to crash the
	// relay in that window.
	afterPublish func(ctx context.Context, id int64) error
}

// NewRelay returns a relay for the outbox in db (migrated with Migrate)
// publishing through pub. Zero fields of cfg take the defaults. Its metrics
// are registered on reg; a collector that reg already has (a second relay in
// one process) is shared. A nil logger discards; a nil reg registers nothing.
func NewRelay(db *sqlstore.DB, pub Publisher, cfg RelayConfig, logger *slog.Logger, reg prometheus.Registerer) (*Relay, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("outbox relay config: %w", err)
	}
	if db == nil || pub == nil {
		return nil, errors.New("outbox relay: nil database or publisher")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &Relay{
		db: db, pub: pub, cfg: cfg.withDefaults(), logger: logger,
		notify: make(chan struct{}, 1),
	}
	var err error
	if r.published, err = register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "plinth_outbox_published_total",
		Help: "Outbox events published to the bus and marked published.",
	})); err != nil {
		return nil, err
	}
	if r.errors, err = register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "plinth_outbox_publish_errors_total",
		Help: "Failed attempts to publish an outbox event or to mark it published.",
	})); err != nil {
		return nil, err
	}
	if r.pending, err = register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "plinth_outbox_pending",
		Help: "Outbox events committed but not yet published, as of the relay's last pass.",
	})); err != nil {
		return nil, err
	}
	return r, nil
}

// register registers c on reg, or returns the collector reg already has.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if reg == nil {
		return c, nil
	}
	if err := reg.Register(c); err != nil {
		if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		return c, fmt.Errorf("outbox metrics: %w", err)
	}
	return c, nil
}

// Notify wakes Run for a pass now, without waiting for the poll interval.
// Call it after committing a transaction that enqueued events. It never
// blocks; pokes while a pass is due are merged.
func (r *Relay) Notify() {
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// Run publishes pending rows until ctx is done, then returns nil. It makes a
// pass at start, after each Notify and every poll interval, and at once
// again when a pass filled a whole batch. After an error it waits with
// exponential back-off from the poll interval up to 10 s, ignoring Notify,
// and keeps the failed row for the next pass.
func (r *Relay) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	var backoff time.Duration
	for {
		n, err := r.PublishPending(ctx)
		if ctx.Err() != nil {
			return nil
		}
		wait := r.cfg.PollInterval
		switch {
		case err != nil:
			backoff = min(max(2*backoff, r.cfg.PollInterval), maxBackoff)
			wait = backoff
			r.logger.Warn("outbox relay pass failed; retrying", "err", err, "retry_in", backoff)
		case n == r.cfg.BatchSize:
			backoff = 0
			continue
		default:
			backoff = 0
		}
		if !r.wait(ctx, timer, wait, backoff == 0) {
			return nil
		}
	}
}

// wait sleeps for d, or until Notify when wakeOnNotify; false once ctx is
// done.
func (r *Relay) wait(ctx context.Context, timer *time.Timer, d time.Duration, wakeOnNotify bool) bool {
	timer.Reset(d)
	notify := r.notify
	if !wakeOnNotify {
		notify = nil
	}
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
	case <-notify:
	}
	return true
}

// row is one unpublished outbox row.
type row struct {
	id      int64
	subject string
	payload []byte
	headers string
}

// PublishPending makes one pass: it loads up to BatchSize unpublished rows
// in id order and publishes and marks each in turn, stopping at the first
// error. It returns how many rows it marked published.
func (r *Relay) PublishPending(ctx context.Context) (int, error) {
	instance, err := r.instanceID(ctx)
	if err != nil {
		return 0, err
	}
	rows, err := r.load(ctx)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, rw := range rows {
		if err := r.publish(ctx, instance, rw); err != nil {
			r.errors.Inc()
			return done, err
		}
		r.published.Inc()
		done++
	}
	if err := r.updatePending(ctx); err != nil {
		return done, err
	}
	return done, nil
}

func (r *Relay) publish(ctx context.Context, instance string, rw row) error {
	hdr, err := decodeHeaders(rw.headers)
	if err != nil {
		return fmt.Errorf("outbox row %d: %w", rw.id, err)
	}
	// Publish writes the trace context of its ctx back into the headers.
	pubCtx := otel.GetTextMapPropagator().Extract(ctx, bus.HeaderCarrier(hdr))
	msgID := "outbox-" + instance + "-" + strconv.FormatInt(rw.id, 10)
	if _, err := r.pub.Publish(pubCtx, rw.subject, rw.payload, msgID, hdr); err != nil {
		return fmt.Errorf("publish outbox row %d: %w", rw.id, err)
	}
	if r.afterPublish != nil {
		if err := r.afterPublish(ctx, rw.id); err != nil {
			return err
		}
	}
	_, err = r.db.ExecContext(ctx,
		"UPDATE outbox SET published_at = $1 WHERE id = $2 AND published_at IS NULL", time.Now().UTC(), rw.id)
	if err != nil {
		return fmt.Errorf("mark outbox row %d published: %w", rw.id, err)
	}
	return nil
}

func (r *Relay) load(ctx context.Context) ([]row, error) {
	rs, err := r.db.QueryContext(ctx,
		"SELECT id, subject, payload, headers FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1",
		r.cfg.BatchSize)
	if err != nil {
		return nil, fmt.Errorf("load outbox rows: %w", err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var rw row
		if err := rs.Scan(&rw.id, &rw.subject, &rw.payload, &rw.headers); err != nil {
			return nil, fmt.Errorf("load outbox rows: %w", err)
		}
		out = append(out, rw)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("load outbox rows: %w", err)
	}
	return out, nil
}

func (r *Relay) updatePending(ctx context.Context) error {
	var n int64
	if err := r.db.QueryRowContext(ctx, "SELECT count(*) FROM outbox WHERE published_at IS NULL").Scan(&n); err != nil {
		return fmt.Errorf("count pending outbox rows: %w", err)
	}
	r.pending.Set(float64(n))
	return nil
}

// instanceID returns the database's outbox id, reading it once.
func (r *Relay) instanceID(ctx context.Context) (string, error) {
	r.instanceMu.Lock()
	defer r.instanceMu.Unlock()
	if r.instance != "" {
		return r.instance, nil
	}
	err := r.db.QueryRowContext(ctx, "SELECT id FROM outbox_instance").Scan(&r.instance)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errors.New("outbox instance id missing: was the outbox migrated?")
	}
	if err != nil {
		return "", fmt.Errorf("read outbox instance id: %w", err)
	}
	return r.instance, nil
}
