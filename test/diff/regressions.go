// regressions.go: a small "shop" service with planted regressions, profiled with runtime/pprof.
//
//	go run regressions.go -scenario NAME -variant before|after -out FILE
//
// Each scenario runs a fixed amount of work (deterministic inputs) and writes one
// profile: a CPU profile for nplus1, hotself and newcaller, the mutex profile for lock, the
// heap profile for alloc (alloc_space) and leak (inuse_space).  "after" differs from "before"
// only by the planted change, in the function test/scripts/diff_regressions.sh expects first:
//
//	nplus1     encodeEachItem: new code that calls json.Marshal once per item
//	hotself    parsePrices: the same calls, more work in its own loop
//	newcaller  refreshPrices: an existing function starts calling the existing, expensive
//	           computeChecksum (auditOrders called it before and still does)
//	lock       updateStats: a shared lock instead of per-worker counters; flushQueue's lock
//	           is contended the same in both
//	alloc      renderRow: a larger buffer per row
//	leak       cacheResult: the cache stops evicting
package main

import (
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"time"
)

type Item struct {
	ID    int     `json:"id"`
	Name  string  `json:"name"`
	Price float64 `json:"price"`
	Tags  []string `json:"tags"`
}

var after bool
var sink int

func makeItems(n int) []Item {
	items := make([]Item, n)
	for i := range items {
		items[i] = Item{ID: i, Name: "item-" + strconv.Itoa(i), Price: float64(i%97) + 0.5,
			Tags: []string{"a", "b", strconv.Itoa(i % 7)}}
	}
	return items
}

// ---------------------------------------------------------------- CPU scenarios

//go:noinline
func loadInventory(items []Item) int {
	s := 0
	for r := 0; r < 40; r++ {
		for i := range items {
			s += items[i].ID*31 + int(items[i].Price) ^ r
		}
	}
	return s
}

//go:noinline
func encodeResponse(items []Item) int {
	b, _ := json.Marshal(items)
	return len(b)
}

//go:noinline
func encodeEachItem(items []Item) int {
	n := 0
	for i := range items {
		b, _ := json.Marshal(&items[i])
		n += len(b)
	}
	return n
}

//go:noinline
func parsePrices(text []string, rounds int) int {
	s := 0
	for r := 0; r < rounds; r++ {
		for _, t := range text {
			for k := 0; k < len(t); k++ {
				s = s*33 + int(t[k])
			}
		}
	}
	return s
}

//go:noinline
func formatPrices(items []Item) int {
	n := 0
	for i := range items {
		n += len(strconv.FormatFloat(items[i].Price, 'f', 2, 64))
	}
	return n
}

//go:noinline
func computeChecksum(items []Item) int {
	h := sha256.New()
	var buf [8]byte
	for r := 0; r < 8; r++ {
		for i := range items {
			v := uint64(items[i].ID + r)
			for k := 0; k < 8; k++ {
				buf[k] = byte(v >> (8 * k))
			}
			h.Write(buf[:])
		}
	}
	return int(h.Sum(nil)[0])
}

//go:noinline
func refreshPrices(items []Item) int {
	n := formatPrices(items)
	if after {
		n += computeChecksum(items)
	}
	return n
}

//go:noinline
func auditOrders(items []Item) int {
	return computeChecksum(items)
}

//go:noinline
func handleRequest(scenario string, items []Item, text []string) {
	sink += loadInventory(items)
	switch scenario {
	case "nplus1":
		sink += encodeResponse(items)
		if after {
			sink += encodeEachItem(items)
		}
	case "hotself":
		rounds := 3
		if after {
			rounds = 15
		}
		sink += parsePrices(text, rounds)
		sink += encodeResponse(items)
	case "newcaller":
		sink += refreshPrices(items)
		sink += auditOrders(items)
	}
}

func runCPU(scenario string, requests int) {
	items := makeItems(400)
	text := make([]string, 400)
	for i := range text {
		text[i] = fmt.Sprintf("%d.%02d EUR", i*7, i%100)
	}
	for r := 0; r < requests; r++ {
		handleRequest(scenario, items, text)
	}
}

// ---------------------------------------------------------------- lock

var statsMu, flushMu sync.Mutex

// Critical sections sleep: the other workers are sure to find the lock taken, however the
// machine schedules the threads, so both runs have contention to compare.
const holdLock = 50 * time.Microsecond
var stats = map[string]int{}

// spin burns a little CPU inside a critical section.
//
//go:noinline
func spin(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i * i
	}
	return s
}

//go:noinline
func updateStats(local map[string]int, key string) {
	if after {
		statsMu.Lock()
		stats[key] += spin(2000)
		time.Sleep(holdLock)
		statsMu.Unlock()
	} else {
		local[key] += spin(2000)
	}
}

//go:noinline
func flushQueue() {
	flushMu.Lock()
	sink += spin(2000)
	time.Sleep(holdLock)
	flushMu.Unlock()
}

func runLock(iterations int) {
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			local := map[string]int{}
			for i := 0; i < iterations; i++ {
				updateStats(local, strconv.Itoa(i%8))
				if i%4 == 0 {
					flushQueue()
				}
				spin(2000)
			}
		}(w)
	}
	wg.Wait()
}

// ---------------------------------------------------------------- alloc and leak

var keep [][]byte

//go:noinline
func renderRow(i int) []byte {
	size := 256
	if after {
		size = 2048
	}
	b := make([]byte, size)
	b[0] = byte(i)
	return b
}

//go:noinline
func buildIndex(i int) []byte {
	b := make([]byte, 512)
	b[1] = byte(i)
	return b
}

func runAlloc(rows int) {
	for i := 0; i < rows; i++ {
		sink += len(renderRow(i)) + len(buildIndex(i))
	}
}

var cache = map[int][]byte{}
var order []int

//go:noinline
func cacheResult(key int) {
	v := make([]byte, 1024)
	v[0] = byte(key)
	cache[key] = v
	order = append(order, key)
	if !after && len(order) > 200 {
		delete(cache, order[0])
		order = order[1:]
	}
}

//go:noinline
func loadCatalog() {
	for i := 0; i < 2000; i++ {
		keep = append(keep, make([]byte, 4096))
	}
}

func runLeak(requests int) {
	loadCatalog()
	for i := 0; i < requests; i++ {
		cacheResult(i)
	}
}

func main() {
	scenario := flag.String("scenario", "", "nplus1, hotself, newcaller, lock, alloc or leak")
	variant := flag.String("variant", "before", "before or after")
	out := flag.String("out", "", "profile file to write")
	scale := flag.Int("scale", 1, "multiply the amount of work")
	flag.Parse()
	after = *variant == "after"
	f, err := os.Create(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	switch *scenario {
	case "nplus1", "hotself", "newcaller":
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		runCPU(*scenario, 150**scale)
		pprof.StopCPUProfile()
	case "lock":
		runtime.SetMutexProfileFraction(1)
		runLock(300 * *scale)
		pprof.Lookup("mutex").WriteTo(f, 0)
	case "alloc", "leak":
		runtime.MemProfileRate = 512
		if *scenario == "alloc" {
			runAlloc(20000 * *scale)
		} else {
			runLeak(10000 * *scale)
		}
		runtime.GC()
		pprof.Lookup("heap").WriteTo(f, 0)
	default:
		fmt.Fprintln(os.Stderr, "unknown scenario", *scenario)
		os.Exit(2)
	}
}
