// A program that links the parts of Go's standard library a profiled Go service
// typically runs (HTTP, TLS, JSON, gzip, SQL, regexp, templates, pprof): its text
// symbols are the Go half of the stored-format dictionary's training material (see
// make_dict.sh).  It is built, never run.
package main

import (
	"bufio"
	"compress/gzip"
	"crypto/tls"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"text/template"
	"time"
)

func main() {
	_ = bufio.NewReader(os.Stdin)
	_, _ = gzip.NewReader(os.Stdin)
	_ = tls.Config{}
	_, _ = sql.Open("x", "y")
	_, _ = json.Marshal(1)
	_ = big.NewInt(1)
	_, _ = url.Parse("x")
	_ = regexp.MustCompile("a")
	_ = pprof.Lookup("heap")
	sort.Ints(nil)
	_ = strings.ToUpper("a")
	var mu sync.Mutex
	mu.Lock()
	_ = template.New("x")
	fmt.Println(time.Now())
	_ = http.ListenAndServe(":0", nil)
}
