// Command grpcload is bench/serving's closed-loop gRPC load generator: c
// goroutines on one HTTP/2 connection send ModelInfer with the 30-float
// payload for d, then it prints {"rps", "p50_us", "p99_us", "errors"} as
// JSON. ghz saturates its own core before a Go server here, so a lean
// client is used instead.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"os"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	pb "github.com/plinthai/plinth/api/gen/inference"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18501", "server address")
	model := flag.String("model", "bench", "model name")
	sample := flag.String("sample", "", "JSON file {\"features\": [30 floats]}")
	c := flag.Int("c", 1, "concurrent callers")
	d := flag.Duration("d", 10*time.Second, "duration")
	warm := flag.Duration("warmup", 2*time.Second, "warm-up before measuring")
	token := flag.String("token", "", "credential sent as authorization: Bearer <token> (an API key or a JWT)")
	flag.Parse()
	ctx := context.Background()
	if *token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+*token)
	}
	var in struct{ Features []float32 }
	b, err := os.ReadFile(*sample)
	if err != nil {
		log.Fatal(err)
	}
	if err := json.Unmarshal(b, &in); err != nil {
		log.Fatal(err)
	}
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	client := pb.NewGRPCInferenceServiceClient(conn)
	req := &pb.ModelInferRequest{ModelName: *model, Inputs: []*pb.ModelInferRequest_InferInputTensor{{
		Name: "features", Datatype: "FP32", Shape: []int64{1, int64(len(in.Features))},
		Contents: &pb.InferTensorContents{Fp32Contents: in.Features},
	}}}
	run := func(dur time.Duration) ([]time.Duration, int) {
		var mu sync.Mutex
		var all []time.Duration
		errs := 0
		stop := time.Now().Add(dur)
		var wg sync.WaitGroup
		for range *c {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var lat []time.Duration
				e := 0
				for time.Now().Before(stop) {
					t0 := time.Now()
					if _, err := client.ModelInfer(ctx, req); err != nil {
						e++
						continue
					}
					lat = append(lat, time.Since(t0))
				}
				mu.Lock()
				all, errs = append(all, lat...), errs+e
				mu.Unlock()
			}()
		}
		wg.Wait()
		return all, errs
	}
	run(*warm)
	lat, errs := run(*d)
	slices.Sort(lat)
	q := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds())
	}
	_ = json.NewEncoder(os.Stdout).Encode(map[string]float64{
		"rps": float64(len(lat)) / d.Seconds(), "p50_us": q(0.5), "p99_us": q(0.99), "errors": float64(errs),
	})
}
