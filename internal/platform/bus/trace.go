package bus

import (
	"context"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
)

// HeaderCarrier adapts nats.Header to OpenTelemetry's TextMapCarrier. Unlike
// propagation.HeaderCarrier it keeps keys exactly as the propagator writes
// them ("traceparent"), since NATS headers are case-sensitive and consumers in
// other languages look for the lowercase W3C names.
type HeaderCarrier nats.Header

// Get returns the first value of key, or "".
func (c HeaderCarrier) Get(key string) string { return nats.Header(c).Get(key) }

// Set replaces the values of key with value.
func (c HeaderCarrier) Set(key, value string) { nats.Header(c).Set(key, value) }

// Keys lists the header keys.
func (c HeaderCarrier) Keys() []string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	return keys
}

// InjectContext writes the trace context of ctx into hdr through the global
// OpenTelemetry propagator. hdr must not be nil.
func InjectContext(ctx context.Context, hdr nats.Header) {
	otel.GetTextMapPropagator().Inject(ctx, HeaderCarrier(hdr))
}

// ExtractContext returns ctx carrying the trace context found in the headers
// of msg, so that a consumer's spans join the producer's trace. Without
// headers it returns ctx unchanged.
func ExtractContext(ctx context.Context, msg jetstream.Msg) context.Context {
	hdr := msg.Headers()
	if len(hdr) == 0 {
		return ctx
	}
	return otel.GetTextMapPropagator().Extract(ctx, HeaderCarrier(hdr))
}
