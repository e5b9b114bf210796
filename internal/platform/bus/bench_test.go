package bus_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/plinthai/plinth/internal/platform/bus"
)

// BenchmarkPublishBatch is the cost of a batch of 100 prediction logs of
// 200 bytes, each with a message id never seen before, published until
// JetStream acknowledged them all. The embedded NATS server runs in the
// same process, so its work and allocations are in those figures too; on
// the external server the allocations are the client's alone. The ids
// are made before the clock starts.
func BenchmarkPublishBatch(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) { benchPublishBatch(b, be.open(b)) })
	}
}

func benchPublishBatch(b *testing.B, bb *bus.Bus) {
	const size = 100
	data := make([]byte, 200)
	ids := make([]string, b.N*size)
	for i := range ids {
		ids[i] = "bench-" + strconv.Itoa(i)
	}
	msgs := make([]bus.Message, size)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		for i := range msgs {
			msgs[i] = bus.Message{Subject: "predictions.bench", Data: data, MsgID: ids[n*size+i]}
		}
		if got, err := bb.PublishBatch(ctx, msgs); got != size || err != nil {
			b.Fatalf("PublishBatch: %d persisted, %v; want %d, nil", got, err, size)
		}
	}
	b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "msgs/s")
}
