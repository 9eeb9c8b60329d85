// gosender: sends real runtime/pprof profiles to profile-gateway's /ingest the way the Go SDK
// (pyroscope-go) uploads them: one multipart/form-data POST per profile with a "profile" file
// part (gzipped pprof, filename profile.pprof) and, for heap, mutex, block and goroutine
// profiles, a "sample_type_config" file part (JSON, filename sample_type_config.json); query
// parameters name (app{tags}), from and until (Unix nanoseconds), spyName=gospy, sampleRate,
// units and aggregationType.  Standard library only.
//
// For each profile sent it writes the file to -out and a line to -out/sent.tsv:
//
//	kind  status  from_ns  until_ns  file  type:unit=total,...
//
// where the totals are summed by this program's own small pprof reader (not the code under
// test).  The exit status is 0 when every upload got HTTP 200 (with -expect-ok) or always.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sampleType mirrors the JSON the SDK sends in sample_type_config.
type sampleType struct {
	Units       string `json:"units,omitempty"`
	Aggregation string `json:"aggregation,omitempty"`
	DisplayName string `json:"display-name,omitempty"`
	Sampled     bool   `json:"sampled,omitempty"`
	Cumulative  bool   `json:"cumulative,omitempty"`
}

// The SDK's sample type configurations, by profile kind (pyroscope-go sample_types.go).
var sampleTypeConfigs = map[string]map[string]*sampleType{
	"heap": {
		"alloc_objects": {Units: "objects"},
		"alloc_space":   {Units: "bytes"},
		"inuse_space":   {Units: "bytes", Aggregation: "average"},
		"inuse_objects": {Units: "objects", Aggregation: "average"},
	},
	"mutex": {
		"contentions": {DisplayName: "mutex_count", Units: "lock_samples"},
		"delay":       {DisplayName: "mutex_duration", Units: "lock_nanoseconds"},
	},
	"block": {
		"contentions": {DisplayName: "block_count", Units: "lock_samples"},
		"delay":       {DisplayName: "block_duration", Units: "lock_nanoseconds"},
	},
	"goroutines": {
		"goroutine": {DisplayName: "goroutines", Units: "goroutines", Aggregation: "average"},
	},
}

type job struct {
	kind            string
	from, until     time.Time
	sampleRate      int
	units, aggrType string
	profile         []byte
}

// ---------------------------------------------------------------- workload

var sink []byte
var sinkMu sync.Mutex

//go:noinline
func hashLoop(n int) uint64 {
	h := uint64(1469598103934665603)
	for i := 0; i < n; i++ {
		h ^= uint64(i)
		h *= 1099511628211
	}
	return h
}

//go:noinline
func sortWork(n int) int {
	a := make([]int, n)
	for i := range a {
		a[i] = rand.Intn(1 << 20)
	}
	sort.Ints(a)
	return a[n/2]
}

//go:noinline
func allocWork(n int) {
	for i := 0; i < n; i++ {
		b := make([]byte, 1024+i%4096)
		sinkMu.Lock()
		if i%64 == 0 {
			sink = append(sink, b[:16]...)
		}
		sinkMu.Unlock()
	}
}

// burn keeps both cores busy for d with a few distinct call paths.
func burn(d time.Duration) {
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if g == 0 {
					hashLoop(2000000)
				} else {
					sortWork(20000)
				}
				allocWork(200)
			}
		}(g)
	}
	wg.Wait()
}

// contend makes goroutines wait on a mutex and a channel (mutex and block profiles).
func contend(d time.Duration) {
	var mu sync.Mutex
	ch := make(chan int)
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				mu.Lock()
				time.Sleep(200 * time.Microsecond)
				mu.Unlock()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for time.Now().Before(deadline) {
			select {
			case ch <- 1:
			case <-time.After(time.Millisecond):
			}
		}
	}()
	go func() {
		for range ch {
			time.Sleep(100 * time.Microsecond)
		}
	}()
	wg.Wait()
	close(ch)
}

// ---------------------------------------------------------------- profiles

func collect(kind string, d time.Duration) (job, error) {
	j := job{kind: kind, from: time.Now()}
	var buf bytes.Buffer
	switch kind {
	case "cpu":
		if err := pprof.StartCPUProfile(&buf); err != nil {
			return j, err
		}
		burn(d)
		pprof.StopCPUProfile()
		j.sampleRate, j.units, j.aggrType = 100, "samples", "sum"
	case "heap", "mutex", "block", "goroutines":
		switch kind {
		case "mutex", "block":
			contend(d)
		case "heap":
			allocWork(2000)
			runtime.GC()
		}
		name := map[string]string{"heap": "heap", "mutex": "mutex", "block": "block",
			"goroutines": "goroutine"}[kind]
		if err := pprof.Lookup(name).WriteTo(&buf, 0); err != nil {
			return j, err
		}
		if kind == "heap" {
			j.sampleRate = 100
		}
		if kind == "goroutines" {
			j.units, j.aggrType = "goroutines", "average"
		}
	default:
		return j, fmt.Errorf("unknown profile kind %q", kind)
	}
	j.until = time.Now()
	j.profile = buf.Bytes()
	return j, nil
}

// upload sends one job as pyroscope-go's remote upstream does.
func upload(client *http.Client, server, name string, j job) (int, string, error) {
	u, err := url.Parse(server)
	if err != nil {
		return 0, "", err
	}
	body := &bytes.Buffer{}
	w := multipart.NewWriter(body)
	fw, err := w.CreateFormFile("profile", "profile.pprof")
	if err != nil {
		return 0, "", err
	}
	_, _ = fw.Write(j.profile)
	if cfg := sampleTypeConfigs[j.kind]; cfg != nil {
		fw, err = w.CreateFormFile("sample_type_config", "sample_type_config.json")
		if err != nil {
			return 0, "", err
		}
		b, err := json.Marshal(cfg)
		if err != nil {
			return 0, "", err
		}
		_, _ = fw.Write(b)
	}
	if err = w.Close(); err != nil {
		return 0, "", err
	}
	q := u.Query()
	q.Set("name", name)
	q.Set("from", strconv.FormatInt(j.from.UnixNano(), 10))
	q.Set("until", strconv.FormatInt(j.until.UnixNano(), 10))
	q.Set("spyName", "gospy")
	q.Set("sampleRate", strconv.Itoa(j.sampleRate))
	q.Set("units", j.units)
	q.Set("aggregationType", j.aggrType)
	u.Path = strings.TrimSuffix(u.Path, "/") + "/ingest"
	u.RawQuery = q.Encode()
	req, err := http.NewRequest(http.MethodPost, u.String(), body)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(rb), nil
}

// ---------------------------------------------------------------- a small pprof reader

// varint reads a protobuf varint.
func varint(b []byte, i *int) (uint64, error) {
	var v uint64
	for s := uint(0); s < 64; s += 7 {
		if *i >= len(b) {
			return 0, errors.New("truncated varint")
		}
		c := b[*i]
		*i++
		v |= uint64(c&0x7f) << s
		if c < 0x80 {
			return v, nil
		}
	}
	return 0, errors.New("varint too long")
}

// fields calls f for each field of message b: number, wire type, varint value or bytes.
func fields(b []byte, f func(num int, wt int, v uint64, data []byte) error) error {
	for i := 0; i < len(b); {
		key, err := varint(b, &i)
		if err != nil {
			return err
		}
		num, wt := int(key>>3), int(key&7)
		var v uint64
		var data []byte
		switch wt {
		case 0:
			if v, err = varint(b, &i); err != nil {
				return err
			}
		case 1:
			if i+8 > len(b) {
				return errors.New("truncated fixed64")
			}
			i += 8
		case 2:
			n, err := varint(b, &i)
			if err != nil {
				return err
			}
			if n > uint64(len(b)-i) {
				return errors.New("truncated bytes")
			}
			data = b[i : i+int(n)]
			i += int(n)
		case 5:
			if i+4 > len(b) {
				return errors.New("truncated fixed32")
			}
			i += 4
		default:
			return fmt.Errorf("wire type %d", wt)
		}
		if err = f(num, wt, v, data); err != nil {
			return err
		}
	}
	return nil
}

// totals sums the sample values of a (gzipped) pprof profile per sample type, "type:unit".
func totals(raw []byte) ([]string, []int64, error) {
	if len(raw) > 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, nil, err
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return nil, nil, err
		}
	}
	var strs []string
	var types [][2]uint64
	var sums []int64
	var samples [][]byte
	err := fields(raw, func(num, wt int, v uint64, data []byte) error {
		switch num {
		case 1: // sample_type
			var t [2]uint64
			err := fields(data, func(n, _ int, v uint64, _ []byte) error {
				if n == 1 || n == 2 {
					t[n-1] = v
				}
				return nil
			})
			types = append(types, t)
			return err
		case 2: // sample
			samples = append(samples, data)
		case 6: // string_table
			strs = append(strs, string(data))
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	sums = make([]int64, len(types))
	for _, s := range samples {
		k := 0
		add := func(v uint64) {
			if k < len(sums) {
				sums[k] += int64(v)
			}
			k++
		}
		err = fields(s, func(n, wt int, v uint64, data []byte) error {
			if n != 2 {
				return nil
			}
			if wt == 0 {
				add(v)
				return nil
			}
			for i := 0; i < len(data); {
				pv, err := varint(data, &i)
				if err != nil {
					return err
				}
				add(pv)
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	names := make([]string, len(types))
	for i, t := range types {
		if t[0] >= uint64(len(strs)) || t[1] >= uint64(len(strs)) {
			return nil, nil, errors.New("string index out of range")
		}
		names[i] = strs[t[0]] + ":" + strs[t[1]]
	}
	return names, sums, nil
}

// ---------------------------------------------------------------- main

func main() {
	server := flag.String("url", "http://127.0.0.1:4040", "gateway base URL")
	app := flag.String("app", "gosender", "application name")
	tags := flag.String("tags", "", "tags k=v,k=v added to the name")
	kinds := flag.String("kinds", "cpu,heap,mutex,block,goroutines", "profiles to send, in order")
	rounds := flag.Int("rounds", 1, "how many times to send each kind")
	dur := flag.Duration("duration", 700*time.Millisecond, "CPU/contention time per profile")
	out := flag.String("out", ".", "folder for the sent files and sent.tsv")
	flag.Parse()

	runtime.MemProfileRate = 4096
	runtime.SetMutexProfileFraction(1)
	runtime.SetBlockProfileRate(1)

	// The SDK's name: app{tags}, keys sorted (pyroscope-go labelset Normalized).
	var tagList []string
	if *tags != "" {
		tagList = strings.Split(*tags, ",")
	}
	tagList = append(tagList, "process.runtime.name=go", "process.runtime.version="+runtime.Version(),
		"otel.scope.name=com.grafana.pyroscope/go")
	sort.Strings(tagList)
	name := *app + "{" + strings.Join(tagList, ",") + "}"

	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	tsv, err := os.Create(filepath.Join(*out, "sent.tsv"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer tsv.Close()
	client := &http.Client{Timeout: 60 * time.Second}
	failed := 0
	for r := 0; r < *rounds; r++ {
		for _, kind := range strings.Split(*kinds, ",") {
			j, err := collect(kind, *dur)
			if err != nil {
				fmt.Fprintln(os.Stderr, "collect", kind, err)
				os.Exit(2)
			}
			names, sums, err := totals(j.profile)
			if err != nil {
				fmt.Fprintln(os.Stderr, "reading our own", kind, "profile:", err)
				os.Exit(2)
			}
			file := filepath.Join(*out, fmt.Sprintf("%s_%d.pb.gz", kind, r))
			if err := os.WriteFile(file, j.profile, 0o644); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			status, body, err := upload(client, *server, name, j)
			if err != nil {
				fmt.Fprintln(os.Stderr, "upload", kind, err)
				failed++
			} else if status != http.StatusOK {
				fmt.Fprintf(os.Stderr, "upload %s: HTTP %d %s\n", kind, status, body)
				failed++
			}
			var tot []string
			for i := range names {
				tot = append(tot, fmt.Sprintf("%s=%d", names[i], sums[i]))
			}
			fmt.Fprintf(tsv, "%s\t%d\t%d\t%d\t%s\t%s\n", kind, status, j.from.UnixNano(),
				j.until.UnixNano(), file, strings.Join(tot, ","))
		}
	}
	if failed > 0 {
		os.Exit(1)
	}
}
