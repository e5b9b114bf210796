// Command tcpfloor is the round-trip floor of bench/serving: not an HTTP
// server but the least a Go server on this box can do for wrk's requests.
// It reads each keep-alive connection with one goroutine, finds the end
// of each request (the header's blank line and Content-Length bytes of
// body), and writes the same fixed response: no header parsing, no JSON,
// no handler. What it answers in at concurrency 1 is what the box's
// loopback, scheduler and Go runtime cost before any HTTP server does any
// work; a latency goal below it is a goal for the box, not the server.
package main

import (
	"bytes"
	"flag"
	"log"
	"net"
)

var response = []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"score\":0.5}\n")

func main() {
	addr := flag.String("addr", "127.0.0.1:18503", "listen address")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serve(c)
	}
}

// serve answers the requests of one connection until it closes or sends
// a request larger than its buffer.
func serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 16<<10)
	n := 0
	for {
		m, err := c.Read(buf[n:])
		if err != nil {
			return
		}
		n += m
		for {
			end := requestEnd(buf[:n])
			if end < 0 {
				break
			}
			if _, err := c.Write(response); err != nil {
				return
			}
			n = copy(buf, buf[end:n])
		}
		if n == len(buf) {
			return
		}
	}
}

var (
	blankLine     = []byte("\r\n\r\n")
	contentLength = []byte("\r\nContent-Length: ")
)

// requestEnd is the length of the first whole request in b, or -1.
func requestEnd(b []byte) int {
	h := bytes.Index(b, blankLine)
	if h < 0 {
		return -1
	}
	size := 0
	if i := bytes.Index(b[:h+2], contentLength); i >= 0 {
		for _, d := range b[i+len(contentLength) : h+2] {
			if d < '0' || d > '9' {
				break
			}
			size = size*10 + int(d-'0')
		}
	}
	if end := h + len(blankLine) + size; end <= len(b) {
		return end
	}
	return -1
}
