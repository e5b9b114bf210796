// Package telemetry sets up a process's logs, metrics and traces: a slog
// logger whose level can change at run time and that stamps trace ids on
// every line, one Prometheus registry per process, and OpenTelemetry
// tracing configured by the standard OTEL_* environment variables.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/pflag"
	"go.opentelemetry.io/otel/trace"
)

// Defaults for LogConfig.
const (
	DefaultLogLevel  = "info"
	DefaultLogFormat = "text"
)

// LogConfig selects the log level and format.
type LogConfig struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// RegisterFlags registers --log.level and --log.format.
func (c *LogConfig) RegisterFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.Level, "log.level", DefaultLogLevel, "log level: debug, info, warn or error (also changeable at run time on /debug/log-level)")
	fs.StringVar(&c.Format, "log.format", DefaultLogFormat, "log format: text or json")
}

// Validate reports every problem in the config.
func (c *LogConfig) Validate() error {
	var errs []error
	if _, err := ParseLevel(c.Level); err != nil {
		errs = append(errs, fmt.Errorf("log.level: %w", err))
	}
	if c.Format != "text" && c.Format != "json" {
		errs = append(errs, fmt.Errorf("log.format: %q is not text or json", c.Format))
	}
	return errors.Join(errs...)
}

// ParseLevel parses a level name.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("unknown level %q (want debug, info, warn or error)", s)
	}
	return l, nil
}

// NewLogger returns a logger writing to w and the LevelVar that controls it.
func NewLogger(cfg LogConfig, w io.Writer) (*slog.Logger, *slog.LevelVar, error) {
	lvl, err := ParseLevel(cfg.Level)
	if err != nil {
		return nil, nil, err
	}
	v := new(slog.LevelVar)
	v.Set(lvl)
	opts := &slog.HandlerOptions{Level: v}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.Format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(traceHandler{h}), v, nil
}

// traceHandler adds trace_id and span_id to records logged with a context
// that carries a sampled or remote span.
type traceHandler struct{ slog.Handler }

func (h traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

func (h traceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return traceHandler{h.Handler.WithAttrs(as)}
}

func (h traceHandler) WithGroup(name string) slog.Handler {
	return traceHandler{h.Handler.WithGroup(name)}
}
