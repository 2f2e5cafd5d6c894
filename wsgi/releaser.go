package wsgi

// Releaser is a Responder that can stop making its writer wait for a
// slow client: Release makes a Write or Flush that waits for the client
// return at once, and every later one, with what the client has not
// taken queued by the front (memory, then a temporary file) and sent
// after. The host calls it when the thread that writes is needed for
// other requests, or past the request's time limit; until then a write
// goes straight from the host's memory to a client that keeps up. Where
// the front has no room left to queue, a released write whose client
// takes nothing for a while fails, cutting the response, rather than hold
// the thread. Safe to call from any goroutine while the response is being
// written.
type Releaser interface {
	Release()
}
