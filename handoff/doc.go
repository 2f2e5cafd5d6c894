// Package handoff is the wire between wsgo's master process and its
// worker processes.
//
// The master accepts every connection and lends it to a worker: the
// socket's descriptor travels over a unix SOCK_SEQPACKET pair (SCM_RIGHTS),
// and the master keeps a descriptor of its own. The worker serves HTTP on
// the connection directly, so a request costs the master nothing; but
// because the master still holds the socket, it can answer for the
// connection when the worker dies (502 to a request in flight, the idle
// connection lent again to another worker), and a worker being replaced
// can hand its idle connections back instead of closing them.
//
// What the master must know at a worker's death, the state of each lent
// connection, lives in a table of shared memory that the worker writes
// with atomic stores, so that requests cost no messages: only lending,
// closing and returning a connection do.
//
// Where to lend a new connection, the worker with the least load, the
// master reads on the board, a second table of shared memory in which each
// worker counts its running requests and the connections lent to it that
// have not spoken yet (board.go).
package handoff
