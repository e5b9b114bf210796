package trainer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/plinthai/plinth/internal/platform/problem"
	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/wire"
	"github.com/plinthai/plinth/ml/drift"
	"github.com/plinthai/plinth/ml/frame"
	"github.com/plinthai/plinth/ml/gbdt"
	"github.com/plinthai/plinth/ml/iforest"
	"github.com/plinthai/plinth/ml/linear"
	"github.com/plinthai/plinth/ml/metrics"
)

// Outcomes of one delivery, the label of plinth_trainer_jobs_total.
const (
	outcomeSucceeded   = "succeeded"
	outcomeFailed      = "failed"
	outcomeRetry       = "retry"
	outcomeCancelled   = "cancelled"
	outcomeSkipped     = "skipped"
	outcomeInterrupted = "interrupted"
)

// errCancelled is the cause of a job context cancelled because the job was
// cancelled (or finished elsewhere) in the registry.
var errCancelled = errors.New("job cancelled")

// attempt runs one delivery of a job and settles its message.
func (s *Service) attempt(ctx context.Context, job wire.TrainJob, attempt int, msg jetstream.Msg) string {
	cur, err := s.registry.GetJob(ctx, job.ID)
	switch {
	case errors.Is(err, problem.ErrNotFound):
		s.logger.Error("dropping job the registry does not know", "job_id", job.ID)
		_ = msg.Term()
		return outcomeSkipped
	case err != nil:
		s.logger.Warn("cannot read job state; will retry", "job_id", job.ID, "err", err)
		_ = msg.NakWithDelay(s.cfg.backoff(attempt))
		return outcomeRetry
	case cur.Final():
		_ = msg.Ack()
		return outcomeSkipped
	}
	jctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	rep := &reporter{s: s, id: job.ID, attempt: attempt}
	stop := s.watch(jctx, cancel, job.ID, msg)
	v, err := rep.start(jctx)
	if err == nil {
		v, err = s.run(jctx, job, rep)
	}
	stop()
	if err != nil && errors.Is(context.Cause(jctx), errCancelled) {
		err = errCancelled
	}
	return s.settle(ctx, job, attempt, msg, v, err)
}

// settle reports the attempt's end to the registry and acknowledges,
// redelivers or terminates the message.
func (s *Service) settle(ctx context.Context, job wire.TrainJob, attempt int, msg jetstream.Msg, v int64, err error) string {
	log := s.logger.With("job_id", job.ID, "model", job.Model, "attempt", attempt)
	switch {
	case err == nil:
		_, uerr := s.registry.UpdateJob(ctx, registry.UpdateJobRequest{ID: job.ID, Status: registry.JobSucceeded, Attempt: attempt, Version: v})
		if uerr != nil && !errors.Is(uerr, problem.ErrConflict) {
			log.Warn("cannot mark job succeeded; will redeliver", "err", uerr)
			_ = msg.NakWithDelay(s.cfg.backoff(attempt))
			return outcomeRetry
		}
		log.Info("job succeeded", "version", v)
		_ = msg.Ack()
		return outcomeSucceeded
	case errors.Is(err, errCancelled):
		log.Info("job cancelled")
		_ = msg.Ack()
		return outcomeCancelled
	case ctx.Err() != nil:
		_ = msg.Nak()
		return outcomeInterrupted
	case permanent(err) || attempt >= s.cfg.MaxAttempts:
		log.Warn("job failed", "err", err)
		s.report(ctx, registry.UpdateJobRequest{ID: job.ID, Status: registry.JobFailed, Attempt: attempt, Error: err.Error()})
		_ = msg.Term()
		return outcomeFailed
	default:
		delay := s.cfg.backoff(attempt)
		log.Warn("job attempt failed; will retry", "err", err, "retry_in", delay)
		s.report(ctx, registry.UpdateJobRequest{ID: job.ID, Status: registry.JobRunning, Attempt: attempt,
			Error: err.Error(), Message: fmt.Sprintf("attempt %d failed; retrying in %s", attempt, delay)})
		_ = msg.NakWithDelay(delay)
		return outcomeRetry
	}
}

// report sends a final or retry report, logging (not returning) a failure:
// the message's redelivery or the next attempt repairs the state.
func (s *Service) report(ctx context.Context, req registry.UpdateJobRequest) {
	if _, err := s.registry.UpdateJob(ctx, req); err != nil {
		s.logger.Warn("cannot report job state", "job_id", req.ID, "status", req.Status, "err", err)
	}
}

// permanent reports whether err comes from the job itself (its data, its
// params) rather than from the platform, so retrying cannot help.
func permanent(err error) bool {
	for _, kind := range []error{problem.ErrInvalid, problem.ErrUnprocessable, problem.ErrNotFound, problem.ErrConflict,
		problem.ErrTooLarge, problem.ErrForbidden, gbdt.ErrInput, linear.ErrInput, iforest.ErrInput, frame.ErrShape,
		frame.ErrValue, metrics.ErrInput, drift.ErrInput} {
		if errors.Is(err, kind) {
			return true
		}
	}
	return false
}

// watch keeps the message alive and watches for cancellation every
// heartbeat until the returned stop is called.
func (s *Service) watch(ctx context.Context, cancel context.CancelCauseFunc, id string, msg jetstream.Msg) (stop func()) {
	done := make(chan struct{})
	wctx, wcancel := context.WithCancel(ctx)
	go func() {
		defer close(done)
		t := time.NewTicker(s.cfg.Heartbeat)
		defer t.Stop()
		for {
			select {
			case <-wctx.Done():
				return
			case <-t.C:
			}
			_ = msg.InProgress()
			if j, err := s.registry.GetJob(wctx, id); err == nil && j.Final() {
				cancel(errCancelled)
			}
		}
	}()
	return func() { wcancel(); <-done }
}

// reporter sends one attempt's progress to the registry.
type reporter struct {
	s       *Service
	id      string
	attempt int
}

// start marks the attempt running.
func (r *reporter) start(ctx context.Context) (int64, error) {
	return 0, r.progress(ctx, 0.05, fmt.Sprintf("attempt %d started", r.attempt))
}

// progress reports a step. It returns errCancelled when the registry
// says the job is finished (cancelled); other failures to report are
// logged, since progress is informative and the work can go on.
func (r *reporter) progress(ctx context.Context, p float64, message string) error {
	_, err := r.s.registry.UpdateJob(ctx, registry.UpdateJobRequest{ID: r.id, Status: registry.JobRunning,
		Attempt: r.attempt, Progress: p, Message: message})
	switch {
	case errors.Is(err, problem.ErrConflict):
		return errCancelled
	case err != nil:
		r.s.logger.Warn("cannot report job progress", "job_id", r.id, "err", err)
	}
	return context.Cause(ctx)
}
