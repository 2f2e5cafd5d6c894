package wsgi

// Ender is a Responder that can complete its response before ServeWSGI
// returns. The host calls End once the application's body is over and
// its iterable's close() is still to run: the front writes what ends the
// body (a chunked body's last chunk) and flushes, so the client has the
// whole response while close() runs, as PEP 3333 allows ("the server
// must call close() upon completion of the request"), and as gunicorn
// does. Nothing is written after it; ServeWSGI still returns when
// close() has, and the request counts as running until then. A body
// shorter than its Content-Length is left for the front to report.
type Ender interface {
	End() error
}
