// goload: an HTTP load generator for the gateway benchmark (test/bench/run.sh).  Concurrent
// clients POST prepared request bodies (Push messages that test/gateway/gwclient.py built with
// python3-protobuf) round-robin, either as fast as the server answers (closed loop) or at a
// fixed total rate (open loop: a request's latency counts from its scheduled time, so a server
// that falls behind shows it).  Standard library only.  Prints one line:
//
//	requests=N ok=N errors=N seconds=S rps=R mb_per_s=M p50_ms= p90_ms= p99_ms= max_ms=
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

func main() {
	url := flag.String("url", "", "full URL to POST to")
	list := flag.String("bodies", "", "file listing one body file per line")
	ctype := flag.String("content-type", "application/proto", "Content-Type")
	clients := flag.Int("clients", 8, "concurrent clients (connections)")
	seconds := flag.Float64("seconds", 10, "duration")
	rate := flag.Float64("rate", 0, "total requests per second (0: as fast as possible)")
	flag.Parse()

	f, err := os.Open(*list)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var bodies [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.TrimSpace(sc.Text())
		if p == "" {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		bodies = append(bodies, b)
	}
	f.Close()
	if len(bodies) == 0 {
		fmt.Fprintln(os.Stderr, "no bodies")
		os.Exit(2)
	}

	tr := &http.Transport{MaxIdleConnsPerHost: *clients, MaxConnsPerHost: *clients}
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	var mu sync.Mutex
	var lat []time.Duration
	var errs, next int
	var nbytes int64
	start := time.Now()
	deadline := start.Add(time.Duration(*seconds * float64(time.Second)))
	var interval time.Duration
	if *rate > 0 {
		interval = time.Duration(float64(*clients) / *rate * float64(time.Second))
	}
	var wg sync.WaitGroup
	for c := 0; c < *clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			due := start
			if interval > 0 {
				due = start.Add(interval * time.Duration(c) / time.Duration(*clients))
			}
			for {
				var t0 time.Time
				if interval > 0 {
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
					t0 = due
					due = due.Add(interval)
				} else {
					t0 = time.Now()
				}
				if !t0.Before(deadline) {
					return
				}
				mu.Lock()
				body := bodies[next%len(bodies)]
				next++
				mu.Unlock()
				req, _ := http.NewRequest(http.MethodPost, *url, bytes.NewReader(body))
				req.Header.Set("Content-Type", *ctype)
				resp, err := client.Do(req)
				ok := false
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					ok = resp.StatusCode == http.StatusOK
				}
				d := time.Since(t0)
				mu.Lock()
				if ok {
					lat = append(lat, d)
					nbytes += int64(len(body))
				} else {
					errs++
				}
				mu.Unlock()
			}
		}(c)
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		k := int(p/100*float64(len(lat))+0.5) - 1
		if k < 0 {
			k = 0
		}
		if k >= len(lat) {
			k = len(lat) - 1
		}
		return float64(lat[k].Microseconds()) / 1000
	}
	fmt.Printf("requests=%d ok=%d errors=%d seconds=%.3f rps=%.1f mb_per_s=%.2f p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f\n",
		len(lat)+errs, len(lat), errs, secs, float64(len(lat))/secs, float64(nbytes)/1048576/secs,
		pct(50), pct(90), pct(99), pct(100))
}
