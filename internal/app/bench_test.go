package app

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"strconv"
	"testing"
	"time"
)

// BenchmarkServePredict sends POST /v1/models/tiny:predict to a whole
// process (every target, embedded stores) over one keep-alive loopback
// connection, with a client that writes fixed request bytes and reads
// the response by its Content-Length, so that what -benchmem counts is
// nearly all the server's: the socket, net/http, the edge, the handler,
// the model and the prediction log. auth: an API key with scope predict
// (cached, as in production); noauth: --auth.disabled.
func BenchmarkServePredict(b *testing.B) {
	for _, mode := range []string{"auth", "noauth"} {
		b.Run(mode, func(b *testing.B) { benchServePredict(b, mode == "auth") })
	}
}

func benchServePredict(b *testing.B, authOn bool) {
	cfg := testConfig(b, TargetAll)
	cfg.Gateway.Auth.Disabled = !authOn
	cfg.Gateway.RateLimit.ReadRate, cfg.Gateway.RateLimit.ReadBurst = 1e9, 1000
	cfg.Inference.LogSampleRate = 0.01 // as bench/serving runs
	a := startApp(b, cfg)
	r := newRest(b, a)
	addTinyModel(b, r, 1)
	r.want(200, "PUT", "/v1/models/tiny/aliases/champion", []byte(`{"version":1,"force":true,"reason":"bench"}`), nil)
	var cred string
	if authOn {
		var k struct{ Key string }
		if err := json.Unmarshal(r.want(201, "POST", "/v1/apikeys", []byte(`{"name":"bench","scopes":["predict"]}`), nil), &k); err != nil {
			b.Fatal(err)
		}
		cred = k.Key
	}
	body := `{"features":[1.18533623,-2.16157317,0.777643561,1.08358669,-1.39212918,2.3458817]}`
	req := "POST /v1/models/tiny:predict HTTP/1.1\r\nHost: " + a.HTTPAddr() + "\r\nContent-Type: application/json\r\n"
	if cred != "" {
		req += "Authorization: Bearer " + cred + "\r\n"
	}
	req += "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	conn, err := net.Dial("tcp", a.HTTPAddr())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	c := rawClient{conn: conn, r: bufio.NewReaderSize(conn, 4096), req: []byte(req)}
	deadline := time.Now().Add(20 * time.Second)
	for c.do(b) != 200 {
		if time.Now().After(deadline) {
			b.Fatal("the model never answered")
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if st := c.do(b); st != 200 {
			b.Fatalf("status %d", st)
		}
	}
}

// rawClient is a keep-alive HTTP/1.1 client that allocates nothing per
// request: it writes req and skips the response body by Content-Length.
type rawClient struct {
	conn net.Conn
	r    *bufio.Reader
	req  []byte
}

func (c *rawClient) do(b *testing.B) int {
	if _, err := c.conn.Write(c.req); err != nil {
		b.Fatal(err)
	}
	status, n := 0, -1
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			b.Fatal(err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		if status == 0 && len(line) >= 12 {
			status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
		}
		if k, v, ok := bytes.Cut(line, []byte(": ")); ok && bytes.EqualFold(k, []byte("Content-Length")) {
			n = 0
			for _, d := range v {
				n = n*10 + int(d-'0')
			}
		}
	}
	if n < 0 {
		b.Fatal("response without Content-Length")
	}
	if _, err := c.r.Discard(n); err != nil {
		b.Fatal(err)
	}
	return status
}
