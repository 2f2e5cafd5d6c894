package httpfront

import (
	"cmp"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"wsgo/wsgi"
)

// maxRanges bounds the ranges of one request. More, or overlapping ones,
// and the whole file is sent instead (RFC 9110 14.2 allows it): many
// small or overlapping ranges cost the server more than the client.
const maxRanges = 16

// representation is what a static response sends: the file, or its
// precompressed sibling.
type representation struct {
	file     *os.File
	size     int64
	modified time.Time // to the second, as HTTP dates go
	etag     string    // strong
}

// byteRange is a satisfiable range: length > 0 bytes from start.
type byteRange struct{ start, length int64 }

// preconditions evaluates the conditional headers of a GET or HEAD in the
// order of RFC 9110 13.2.2. It returns 412, 304, or 0 to go on.
func (rs *representation) preconditions(req *wsgi.Request) int {
	if im := headerValues(req.Header, "If-Match"); im != nil {
		if !etagListMatch(im, rs.etag, false) {
			return http.StatusPreconditionFailed
		}
	} else if t, ok := headerTime(req.Header, "If-Unmodified-Since"); ok && rs.modified.After(t) {
		return http.StatusPreconditionFailed
	}
	if inm := headerValues(req.Header, "If-None-Match"); inm != nil {
		if etagListMatch(inm, rs.etag, true) {
			return http.StatusNotModified
		}
	} else if t, ok := headerTime(req.Header, "If-Modified-Since"); ok && !rs.modified.After(t) {
		return http.StatusNotModified
	}
	return 0
}

// send answers 200 with the whole representation, or 206 with the ranges
// asked for, or 416 when none of them is satisfiable.
func (rs *representation) send(w wsgi.Responder, req *wsgi.Request, header []wsgi.Header, ctype string) error {
	ranges, partial := rs.ranges(req)
	switch {
	case !partial:
		// Declared, not only given as bodyLen, for which 0 on a HEAD is unknown
		// (an app's HEAD returns no body): an empty file's HEAD got chunked.
		header = append(header, wsgi.Header{Name: "Content-Type", Value: ctype},
			wsgi.Header{Name: "Content-Length", Value: strconv.FormatInt(rs.size, 10)})
		if err := w.Start(http.StatusOK, "OK", header, rs.size); err != nil {
			return err
		}
		return w.SendFile(rs.file, 0, rs.size)
	case len(ranges) == 0:
		return sendText(w, http.StatusRequestedRangeNotSatisfiable, varyEncoding,
			wsgi.Header{Name: "Content-Range", Value: fmt.Sprintf("bytes */%d", rs.size)})
	case len(ranges) == 1:
		r := ranges[0]
		header = append(header,
			wsgi.Header{Name: "Content-Type", Value: ctype},
			wsgi.Header{Name: "Content-Range", Value: rs.contentRange(r)})
		if err := w.Start(http.StatusPartialContent, "Partial Content", header, r.length); err != nil {
			return err
		}
		return w.SendFile(rs.file, r.start, r.length)
	}
	return rs.sendMultipart(w, header, ctype, ranges)
}

// sendMultipart sends several ranges as multipart/byteranges (RFC 9110
// 14.6), with an exact Content-Length.
func (rs *representation) sendMultipart(w wsgi.Responder, header []wsgi.Header, ctype string, ranges []byteRange) error {
	boundary := newRequestID()
	heads := make([]string, len(ranges))
	total := int64(0)
	for i, r := range ranges {
		heads[i] = fmt.Sprintf("\r\n--%s\r\nContent-Type: %s\r\nContent-Range: %s\r\n\r\n", boundary, ctype, rs.contentRange(r))
		if i == 0 {
			heads[i] = heads[i][2:] // the first delimiter needs no line break before it
		}
		total += int64(len(heads[i])) + r.length
	}
	closing := "\r\n--" + boundary + "--\r\n"
	total += int64(len(closing))
	header = append(header, wsgi.Header{Name: "Content-Type", Value: "multipart/byteranges; boundary=" + boundary})
	if err := w.Start(http.StatusPartialContent, "Partial Content", header, total); err != nil {
		return err
	}
	for i, r := range ranges {
		if err := w.Write([]byte(heads[i])); err != nil {
			return err
		}
		if err := w.SendFile(rs.file, r.start, r.length); err != nil {
			return err
		}
	}
	return w.Write([]byte(closing))
}

func (rs *representation) contentRange(r byteRange) string {
	return fmt.Sprintf("bytes %d-%d/%d", r.start, r.start+r.length-1, rs.size)
}

// ranges returns the satisfiable ranges a request asks for; partial is
// false when the whole representation is to be sent: no Range, not a GET,
// an If-Range that does not match, an empty file, or a Range ignored (see
// parseRange).
func (rs *representation) ranges(req *wsgi.Request) (ranges []byteRange, partial bool) {
	values := headerValues(req.Header, "Range")
	if req.Method != http.MethodGet || len(values) != 1 || rs.size == 0 || !rs.ifRange(req) {
		return nil, false
	}
	return parseRange(values[0], rs.size)
}

// ifRange reports whether If-Range, if any, lets the Range apply: only
// an entity tag that matches strongly does. A date never does: a file
// written twice within one second keeps its Last-Modified, so the date is
// a weak validator (RFC 9110 8.8.2.2), which makes the condition false
// (13.1.5), and the range of a new file would be spliced onto the old
// one's bytes. Every answer here carries a strong ETag for clients to
// use instead.
func (rs *representation) ifRange(req *wsgi.Request) bool {
	values := headerValues(req.Header, "If-Range")
	switch len(values) {
	case 0:
		return true
	case 1:
		return strings.Trim(values[0], " \t") == rs.etag
	}
	return false
}

// parseRange reads a Range value for a representation of size > 0 bytes.
// ok is false when the header is to be ignored: another unit than bytes,
// a syntax error, more than maxRanges ranges or overlapping ones. ranges
// holds the satisfiable ranges in the order asked; none means 416.
func parseRange(s string, size int64) (ranges []byteRange, ok bool) {
	unit, set, found := strings.Cut(s, "=")
	if !found || !strings.EqualFold(strings.Trim(unit, " \t"), "bytes") {
		return nil, false
	}
	specs := 0
	for spec := range strings.SplitSeq(set, ",") {
		if spec = strings.Trim(spec, " \t"); spec == "" {
			continue // empty list elements are allowed (RFC 9110 5.6.1)
		}
		if specs++; specs > maxRanges {
			return nil, false
		}
		first, last, found := strings.Cut(spec, "-")
		if !found {
			return nil, false
		}
		if first == "" { // the last N bytes
			n, ok := parseLength(last)
			if !ok {
				return nil, false
			}
			if n > 0 {
				n = min(n, size)
				ranges = append(ranges, byteRange{size - n, n})
			}
			continue
		}
		start, ok := parseLength(first)
		if !ok {
			return nil, false
		}
		end := size - 1
		if last != "" {
			e, ok := parseLength(last)
			if !ok || e < start {
				return nil, false
			}
			end = min(e, end)
		}
		if start < size {
			ranges = append(ranges, byteRange{start, end - start + 1})
		}
	}
	if specs == 0 || overlapping(ranges) {
		return nil, false
	}
	return ranges, true
}

func overlapping(ranges []byteRange) bool {
	sorted := slices.Clone(ranges)
	slices.SortFunc(sorted, func(a, b byteRange) int { return cmp.Compare(a.start, b.start) })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].start < sorted[i-1].start+sorted[i-1].length {
			return true
		}
	}
	return false
}

// etagListMatch reports whether an If-Match or If-None-Match list holds
// etag (or "*"), comparing weakly (W/ ignored) or strongly.
func etagListMatch(values []string, etag string, weak bool) bool {
	for _, v := range values {
		for item := range strings.SplitSeq(v, ",") {
			item = strings.Trim(item, " \t")
			if weak {
				item = strings.TrimPrefix(item, "W/")
			}
			if item == "*" || item == etag {
				return true
			}
		}
	}
	return false
}

// headerTime is the date a header holds, if it is there once and parses
// (RFC 9110 13.1.3, 13.1.4: a field of more than one member is ignored).
func headerTime(hs []wsgi.Header, name string) (time.Time, bool) {
	i := headerIndex(hs, name)
	if i < 0 || headerIndex(hs[i+1:], name) >= 0 {
		return time.Time{}, false
	}
	t, err := http.ParseTime(hs[i].Value)
	return t, err == nil
}
