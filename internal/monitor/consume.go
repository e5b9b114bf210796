package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/plinthai/plinth/internal/platform/bus"
	"github.com/plinthai/plinth/internal/wire"
)

// Consumer settings.
const (
	consumerAckWait    = 30 * time.Second
	consumerMaxPending = 4096
	consumerInactive   = 24 * time.Hour // an abandoned replica's consumers go away
	// consumerFetchBytes bounds what the client buffers per consumer.
	// Prediction logs come in batches of up to 256 KiB, so a message count
	// (512 of them) let a monitor that lags behind buffer 128 MB. The bound
	// is raised to twice the server's max_payload where that is larger,
	// since a message bigger than the bound would stall the consumer.
	consumerFetchBytes = 8 << 20
)

// consumer is one stream consumer and its message handler.
type consumer struct {
	stream string
	cons   jetstream.Consumer
	handle func(ctx context.Context, data []byte) error
}

// createConsumers (re)creates this replica's durable consumers on
// PREDICTIONS and FEEDBACK, starting at now − (window + join window):
// the windows are rebuilt from the streams, so a restart starts over from
// that look-back rather than from where the last run acknowledged.
func (s *Service) createConsumers(ctx context.Context) ([]consumer, error) {
	start := s.now().Add(-s.cfg.Window() - s.cfg.JoinWindow)
	specs := []struct {
		stream, prefix string
		handle         func(ctx context.Context, data []byte) error
	}{
		{bus.StreamPredictions, "predictions", s.onPrediction},
		{bus.StreamFeedback, "feedback", s.onFeedback},
	}
	out := make([]consumer, 0, len(specs))
	for _, sp := range specs {
		c, err := s.createConsumer(ctx, sp.stream, sp.prefix, start)
		if err != nil {
			return nil, err
		}
		out = append(out, consumer{stream: sp.stream, cons: c, handle: sp.handle})
	}
	return out, nil
}

func (s *Service) createConsumer(ctx context.Context, stream, prefix string, start time.Time) (jetstream.Consumer, error) {
	js, name := s.bus.JetStream(), "monitor-"+s.cfg.Instance+"-"+prefix
	streamName := s.bus.Stream(stream)
	if err := js.DeleteConsumer(ctx, streamName, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("reset consumer %s on %s: %w", name, streamName, err)
	}
	cfg := jetstream.ConsumerConfig{
		Durable: name, Description: "plinth monitor: rolling windows, rebuilt from a look-back",
		DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &start,
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: consumerAckWait, MaxAckPending: consumerMaxPending,
		InactiveThreshold: consumerInactive,
	}
	if subs := s.subjects(prefix); len(subs) == 1 {
		cfg.FilterSubject = subs[0] // servers before 2.10 know only the single filter
	} else {
		cfg.FilterSubjects = subs
	}
	c, err := js.CreateConsumer(ctx, streamName, cfg)
	if err != nil {
		return nil, fmt.Errorf("create consumer %s on %s: %w", name, streamName, err)
	}
	return c, nil
}

// subjects are the filter subjects: every model, or the watched ones.
func (s *Service) subjects(prefix string) []string {
	if len(s.cfg.Models) == 0 {
		return []string{s.bus.Subject(prefix + ".>")}
	}
	out := make([]string, 0, len(s.cfg.Models))
	for _, m := range s.cfg.Models {
		out = append(out, s.bus.Subject(prefix+"."+wire.Token(m)))
	}
	return out
}

// consume starts every consumer; the returned function stops them and
// waits until their handlers returned.
func (s *Service) consume(ctx context.Context) (stop func(), err error) {
	var ccs []jetstream.ConsumeContext
	stop = func() {
		for _, cc := range ccs {
			cc.Stop()
			<-cc.Closed()
		}
	}
	for _, c := range s.consumers {
		cc, err := c.cons.Consume(s.handler(ctx, c), jetstream.PullExpiry(bus.PullExpiry),
			jetstream.PullMaxBytes(max(consumerFetchBytes, 2*int(s.bus.Conn().MaxPayload()))),
			jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
				s.logger.Warn("monitor consumer", "stream", c.stream, "err", err)
			}))
		if err != nil {
			stop()
			return nil, fmt.Errorf("consume %s: %w", c.stream, err)
		}
		ccs = append(ccs, cc)
	}
	return stop, nil
}

// handler acknowledges every message it handled and terminates those that
// cannot be decoded (redelivering them would not help).
func (s *Service) handler(ctx context.Context, c consumer) jetstream.MessageHandler {
	return func(msg jetstream.Msg) {
		if err := c.handle(bus.ExtractContext(ctx, msg), msg.Data()); err != nil {
			s.metrics.invalid.WithLabelValues(c.stream).Inc()
			s.logger.Warn("monitor dropped a message", "stream", c.stream, "subject", msg.Subject(), "err", err)
			_ = msg.Term()
			return
		}
		if err := msg.Ack(); err != nil {
			s.logger.Debug("ack", "stream", c.stream, "err", err) // redelivery is harmless: handling is idempotent
		}
	}
}

// onPrediction handles a message of one prediction log or an array of
// them. Logs without a model or a time are skipped and reported; the
// others of the message are handled.
func (s *Service) onPrediction(ctx context.Context, data []byte) error {
	pls, err := wire.DecodePredictionLogs(nil, data)
	if err != nil {
		return fmt.Errorf("decode prediction log: %w", err)
	}
	bad := 0
	for _, pl := range pls {
		if pl.Model == "" || pl.At.IsZero() {
			bad++
			continue
		}
		s.handlePrediction(ctx, pl)
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d prediction logs without model or time", bad, len(pls))
	}
	return nil
}

func (s *Service) onFeedback(_ context.Context, data []byte) error {
	var fb wire.Feedback
	if err := json.Unmarshal(data, &fb); err != nil {
		return fmt.Errorf("decode feedback: %w", err)
	}
	if fb.Model == "" {
		return errors.New("feedback without model")
	}
	s.handleFeedback(fb)
	return nil
}
