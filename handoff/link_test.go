package handoff

import "wsgo/httpfront"

// The server recognises lent connections by this interface.
var _ httpfront.Lent = (*lentConn)(nil)
