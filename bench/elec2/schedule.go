package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/plinthai/plinth/internal/registry"
	"github.com/plinthai/plinth/internal/wire"
)

// Retrain triggers as the results count them.
const (
	triggerInitial = "initial"
	triggerWeekly  = "weekly"
	triggerMonitor = "monitor"
)

// schedule trains the first models when warm-up ends, retrains on schedule
// after, and once a virtual day waits for the jobs the monitor queued.
// The replay pauses while a job runs, so that accelerated time does not
// outrun training (a real half-hour is far longer than a job).
func (l *loop) schedule(ctx context.Context, i int) error {
	switch {
	case i < l.p.Warmup:
		return nil
	case (i-l.p.Warmup)%l.p.Every == 0:
		trigger := triggerWeekly
		if i == l.p.Warmup {
			trigger = triggerInitial
		}
		l.round++
		for _, m := range l.models {
			if err := l.train(ctx, m, i, trigger); err != nil {
				return err
			}
		}
	case i%day == 0:
		for _, m := range l.models {
			if err := l.waitMonitorJobs(ctx, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// train submits a job on the last eight weeks of m's view and waits for
// its version to be champion.
func (l *loop) train(ctx context.Context, m *model, i int, trigger string) error {
	if err := l.flushed(); err != nil {
		return err
	}
	now := at(i)
	// The holdout (for the gate's metrics) is the last 5 %, at least a day.
	holdout := max(0.05, float64(day)/float64(l.p.Lookback))
	job, err := l.a.Registry.SubmitJob(ctx, registry.SubmitJobRequest{
		ID: fmt.Sprintf("%s-%s-%d", m.name, trigger, l.round), Model: m.name, Algorithm: "gbdt", Reason: trigger,
		Params: map[string]string{"num_rounds": "100", "max_depth": "6", "learning_rate": "0.1"},
		Data:   wire.TrainData{View: m.view, From: now.Add(-time.Duration(l.p.Lookback) * halfOur), To: now, Split: "time", Holdout: holdout},
	})
	if err != nil {
		return fmt.Errorf("submit %s job of %s: %w", trigger, m.name, err)
	}
	l.stats.Jobs[trigger]++
	return l.await(ctx, m, job.ID)
}

// flushed waits for the features' offline log to hold what was ingested:
// segments are written at least every OfflineFlush (20 ms).
func (l *loop) flushed() error {
	time.Sleep(60 * time.Millisecond)
	return nil
}

// waitMonitorJobs waits for the retrain jobs the monitor queued for m.
func (l *loop) waitMonitorJobs(ctx context.Context, m *model) error {
	jobs, err := l.a.Registry.ListJobs(ctx, registry.ListJobsRequest{Model: m.name})
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if l.seen[j.ID] || strings.HasPrefix(j.ID, m.name+"-"+triggerInitial) || strings.HasPrefix(j.ID, m.name+"-"+triggerWeekly) {
			continue
		}
		l.stats.Jobs[triggerMonitor+":"+j.Reason]++
		if err := l.await(ctx, m, j.ID); err != nil {
			return err
		}
	}
	return nil
}

// await waits for job id to finish and, when it registered a version, for
// that version to become champion and load in the inference service.
func (l *loop) await(ctx context.Context, m *model, id string) error {
	l.seen[id] = true
	deadline := time.Now().Add(2 * time.Minute)
	var job registry.Job
	for {
		var err error
		if job, err = l.a.Registry.GetJob(ctx, id); err != nil {
			return err
		}
		if job.Final() {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("job %s not done after 2 minutes: %+v", id, job)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if job.Status != registry.JobSucceeded || job.Version == 0 {
		fmt.Printf("job %s of %s: %s %s\n", id, m.name, job.Status, job.Error)
		return nil
	}
	l.stats.Succeeded++
	for time.Now().Before(deadline) {
		mod, err := l.a.Registry.GetModel(ctx, m.name)
		if err != nil {
			return err
		}
		if mod.Aliases[registry.AliasChampion] == job.Version && l.a.Inference.ModelReady(m.name, job.Version) == nil {
			l.stats.Promotions[m.name]++
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Printf("version %d of %s (job %s) not champion after 2 minutes\n", job.Version, m.name, id)
	return nil
}
