// Command floor is the baseline of the gateway benchmarks: an HTTP server
// that reads each request's body and answers "success", doing nothing
// else. The gateway's CPU per message is reported as a multiple of this
// server's, measured side by side (see tools/bench/bench.sh).
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:9090", "address to serve on")
	flag.Parse()
	log.Fatal(http.ListenAndServe(*addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte("success"))
	})))
}
