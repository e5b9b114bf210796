package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Alert rules, the values of Alert.Rule.
const (
	RuleDecay     = "decay"      // quality below slo.min-quality
	RuleErrorRate = "error_rate" // error rate above slo.max-error-rate
	RuleLatency   = "latency"    // p99 above slo.max-p99-latency
	RuleDrift     = "drift"      // a feature's PSI above drift.max-psi
)

// alertQueue bounds alerts waiting for the webhook.
const alertQueue = 256

// Alert is one broken rule of one model version, as logged and POSTed to
// the webhook (JSON). The same rule of the same version alerts at most once
// per window length.
type Alert struct {
	Model     string    `json:"model"`
	Version   int64     `json:"version"`
	Rule      string    `json:"rule"`
	Metric    string    `json:"metric,omitempty"`
	Feature   string    `json:"feature,omitempty"`
	Value     float64   `json:"value"`
	Threshold float64   `json:"threshold"`
	Samples   uint64    `json:"samples"`
	Message   string    `json:"message"`
	At        time.Time `json:"at"`
}

// notifier logs alerts and delivers them to a webhook from its own
// goroutine, so a slow webhook never holds up evaluation. Safe for
// concurrent use.
type notifier struct {
	url     string
	retries int
	backoff time.Duration
	client  *http.Client
	logger  *slog.Logger
	metrics *metrics
	queue   chan Alert
}

func newNotifier(cfg Config, client *http.Client, logger *slog.Logger, m *metrics) *notifier {
	return &notifier{url: cfg.WebhookURL, retries: cfg.WebhookRetries, backoff: cfg.WebhookBackoff,
		client: client, logger: logger, metrics: m, queue: make(chan Alert, alertQueue)}
}

// notify logs a and queues it for the webhook; a full queue drops it and
// counts the drop.
func (n *notifier) notify(a Alert) {
	n.metrics.alerts.WithLabelValues(a.Model, a.Rule).Inc()
	n.logger.Warn("monitor alert", "model", a.Model, "version", a.Version, "rule", a.Rule, "metric", a.Metric,
		"feature", a.Feature, "value", a.Value, "threshold", a.Threshold, "samples", a.Samples, "message", a.Message)
	if n.url == "" {
		return
	}
	select {
	case n.queue <- a:
	default:
		n.metrics.webhook.WithLabelValues("dropped").Inc()
	}
}

// run delivers queued alerts until ctx is done.
func (n *notifier) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case a := <-n.queue:
			if err := n.deliver(ctx, a); err != nil {
				n.logger.Error("alert webhook", "model", a.Model, "rule", a.Rule, "err", err)
			}
		}
	}
}

// deliver POSTs a to the webhook, retrying failures (transport errors and
// non-2xx answers) with doubling backoff. It blocks until delivered, out of
// retries (ErrWebhook) or ctx is done.
func (n *notifier) deliver(ctx context.Context, a Alert) error {
	body, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode alert: %w", err)
	}
	wait := n.backoff
	for attempt := 0; ; attempt++ {
		err = n.post(ctx, body)
		if err == nil {
			n.metrics.webhook.WithLabelValues("ok").Inc()
			return nil
		}
		if attempt >= n.retries {
			n.metrics.webhook.WithLabelValues("failed").Inc()
			return fmt.Errorf("%w after %d attempts: %w", ErrWebhook, attempt+1, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("deliver alert: %w", ctx.Err())
		case <-t.C:
		}
		wait *= 2
	}
}

func (n *notifier) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := n.client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}
