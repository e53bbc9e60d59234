// SPDX-License-Identifier: GPL-2.0-only

// Command goserver serves the conformance API with Go's net/http (standard library only, so
// that it builds offline): a small body written at once gets a Content-Length, a handler that
// flushes gets Transfer-Encoding: chunked.
//
//	goserver PORT LOG
//
// LOG gets "METHOD TARGET STATUS MS LOWER_MS" per request. MS runs from the handler's start
// (the head has just been read) to its return: the server's own measure. A response that was
// never flushed is still in net/http's buffer then and goes out in one write right after
// (flushing it here would cost it its Content-Length). LOWER_MS ends before the response's
// last write: at the return, or before the last Flush when nothing was written after it (an
// HTTP/1.0 stream ends with that flush). Both of its ends lie inside the interval from the
// read of the head to the return of the last write, so it is a lower bound of that interval.
//
// How net/http writes (strace, Go 1.19, one write() per flush of its buffer):
//   - a small body, never flushed: write(head + body), Content-Length added by net/http;
//   - /stream (Flush per chunk, chunked): write(head + "65\r\n" + data + "\r\n"), then
//     write("65\r\n" + data + "\r\n") per chunk; after the handler returns the terminator
//     alone: write("0\r\n\r\n");
//   - HTTP/1.0 /stream: write(head + data), write(data), then the close.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

var (
	delayRe  = regexp.MustCompile(`^/delay/(\d+)$`)
	streamRe = regexp.MustCompile(`^/stream/(\d+)$`)
	chunk    = strings.Repeat("c", 100) + "\n"
)

type recorder struct {
	http.ResponseWriter
	status    int
	lastFlush time.Time // when the last Flush began, zero once written to after it
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.lastFlush = time.Time{}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Flush() {
	r.lastFlush = time.Now()
	r.ResponseWriter.(http.Flusher).Flush()
}

func serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	if m := delayRe.FindStringSubmatch(r.URL.Path); m != nil && r.Method == "GET" {
		ms, _ := strconv.Atoi(m[1])
		time.Sleep(time.Duration(ms) * time.Millisecond)
		fmt.Fprintf(w, "delayed %d\n", ms)
	} else if m := streamRe.FindStringSubmatch(r.URL.Path); m != nil && r.Method == "GET" {
		n, _ := strconv.Atoi(m[1])
		for i := 0; i < n; i++ {
			time.Sleep(10 * time.Millisecond)
			io.WriteString(w, chunk)
			w.(http.Flusher).Flush()
		}
	} else if strings.HasPrefix(r.URL.Path, "/missing/") {
		w.WriteHeader(404)
		io.WriteString(w, "not found\n")
	} else if r.URL.Path == "/boom" {
		w.WriteHeader(500)
		io.WriteString(w, "boom\n")
	} else if r.URL.Path == "/echo" && r.Method == "POST" {
		n, _ := io.Copy(io.Discard, r.Body)
		w.WriteHeader(201)
		fmt.Fprintf(w, "%d\n", n)
	} else {
		w.WriteHeader(404)
		io.WriteString(w, "no route\n")
	}
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: goserver PORT LOG")
		os.Exit(2)
	}
	log, err := os.OpenFile(os.Args[2], os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var mu sync.Mutex
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		rec := &recorder{ResponseWriter: w, status: 200}
		serve(rec, r)
		end := time.Now()
		lower := end
		if !rec.lastFlush.IsZero() {
			lower = rec.lastFlush
		}
		ms := float64(end.Sub(t0).Nanoseconds()) / 1e6
		lowerMs := float64(lower.Sub(t0).Nanoseconds()) / 1e6
		mu.Lock()
		fmt.Fprintf(log, "%s %s %d %.3f %.3f\n", r.Method, r.RequestURI, rec.status, ms,
			lowerMs)
		mu.Unlock()
	})
	srv := &http.Server{Addr: "127.0.0.1:" + os.Args[1], Handler: handler}
	fmt.Println("ready")
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
