// Command httpdot is the REST limit of bench/serving: a bare net/http
// handler that decodes {"features": [...]} with encoding/json, returns the
// dot product with fixed weights as {"score": x} with encoding/json.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
)

type request struct {
	Features []float64 `json:"features"`
}

type response struct {
	Score float64 `json:"score"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:18500", "listen address")
	flag.Parse()
	weights := make([]float64, 30)
	for i := range weights {
		weights[i] = float64(i%7) / 10
	}
	http.HandleFunc("POST /predict", func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var s float64
		for i, v := range req.Features {
			s += v * weights[i%len(weights)]
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(response{s})
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
