// Command ceiling is the benchmark's ceiling: a bare net/http server with no
// Python, answering hello world as bench/apps/hello.py does, and serving a
// file with http.ServeContent at /file as bench/apps/file8m.py does.
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8000", "`HOST:PORT` to listen on")
	file := flag.String("file", "", "`PATH` of the file served at /file")
	flag.Parse()

	hello := []byte("Hello, world!")
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", "13")
		w.Write(hello)
	})
	http.HandleFunc("/file", func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(*file)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, "", fi.ModTime(), f)
	})
	log.Fatal(http.ListenAndServe(*addr, nil))
}
