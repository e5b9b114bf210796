// Command httpfloor is the net/http floor of bench/serving: a net/http
// server whose handler reads the body to its end and writes a fixed
// answer, with no JSON and no model. Beside tcpfloor (no HTTP server at
// all) it shows what net/http itself costs at concurrency 1 on the box,
// before any handler does work.
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
)

var answer = []byte("{\"score\":0.5}\n")

func main() {
	addr := flag.String("addr", "127.0.0.1:18504", "listen address")
	flag.Parse()
	http.HandleFunc("POST /predict", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(answer)
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
