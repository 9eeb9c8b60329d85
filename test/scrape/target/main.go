// A Go service that does known work and serves net/http/pprof, for the
// scraping tests: a CPU burner, a steady allocator and a leak, each chosen
// by a flag.  Standard library only.
//
//	target -listen 127.0.0.1:6060 -burn
//	target -listen 127.0.0.1:6061 -alloc-chunks 200 -alloc-size 65536 -alloc-per-sec 50
//	target -listen 127.0.0.1:6062 -leak-per-sec 262144
//
// GET /state answers what it did so far as JSON (CPU time from getrusage,
// chunks allocated, leaked bytes), so a test can compare scraped profiles
// with the work done.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	_ "net/http/pprof"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func init() {
	// Record every allocation, so allocation totals are exact, not sampled.
	runtime.MemProfileRate = 1
}

var (
	sink        []byte
	leaked      [][]byte
	leakedBytes int64
	allocated   int64
	allocDone   int32
	allocsSeen  int32 // /debug/pprof/allocs requests answered
	spins       uint64
	mu          sync.Mutex
)

//go:noinline
func burnCPU(n int) uint64 {
	x := uint64(1)
	for i := 0; i < n; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	return x
}

//go:noinline
func allocChunk(size int) []byte {
	return make([]byte, size)
}

//go:noinline
func leakChunk(size int) []byte {
	return make([]byte, size)
}

func burner() {
	for {
		atomic.AddUint64(&spins, burnCPU(1<<20)&1)
	}
}

// allocator waits for the first /debug/pprof/allocs answer (the scraper's
// baseline), allocates chunks at a steady rate, then runs the collector so
// every allocation shows in the published profile.
func allocator(chunks, size, perSec int) {
	for atomic.LoadInt32(&allocsSeen) == 0 {
		time.Sleep(20 * time.Millisecond)
	}
	tick := time.NewTicker(time.Second / time.Duration(perSec))
	defer tick.Stop()
	for i := 0; i < chunks; i++ {
		<-tick.C
		sink = allocChunk(size)
		atomic.AddInt64(&allocated, int64(size))
	}
	runtime.GC()
	runtime.GC()
	atomic.StoreInt32(&allocDone, 1)
}

func leaker(perSec int) {
	const chunk = 16384
	n := perSec / chunk
	if n < 1 {
		n = 1
	}
	for {
		mu.Lock()
		for i := 0; i < n; i++ {
			leaked = append(leaked, leakChunk(chunk))
			leakedBytes += chunk
		}
		mu.Unlock()
		runtime.GC() // publish the heap profile often
		time.Sleep(time.Second)
	}
}

func cpuNanos() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func main() {
	listen := flag.String("listen", "127.0.0.1:6060", "address to serve on")
	burn := flag.Bool("burn", false, "burn one CPU in main.burnCPU")
	chunks := flag.Int("alloc-chunks", 0, "chunks to allocate in main.allocChunk after the first allocs scrape")
	size := flag.Int("alloc-size", 65536, "bytes per chunk")
	perSec := flag.Int("alloc-per-sec", 50, "chunks per second")
	leak := flag.Int("leak-per-sec", 0, "bytes per second kept forever by main.leakChunk")
	flag.Parse()

	start := time.Now()
	if *burn {
		go burner()
	}
	if *chunks > 0 {
		go allocator(*chunks, *size, *perSec)
	}
	if *leak > 0 {
		go leaker(*leak)
	}
	http.HandleFunc("/state", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		lb := leakedBytes
		mu.Unlock()
		json.NewEncoder(w).Encode(map[string]interface{}{
			"cpu_ns":          cpuNanos(),
			"wall_ns":         time.Since(start).Nanoseconds(),
			"allocated_bytes": atomic.LoadInt64(&allocated),
			"alloc_done":      atomic.LoadInt32(&allocDone) == 1,
			"allocs_seen":     atomic.LoadInt32(&allocsSeen),
			"leaked_bytes":    lb,
		})
	})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.DefaultServeMux.ServeHTTP(w, r)
		if r.URL.Path == "/debug/pprof/allocs" && r.URL.Query().Get("direct") == "" {
			atomic.AddInt32(&allocsSeen, 1)
		}
	})
	log.Fatal(http.ListenAndServe(*listen, handler))
}
