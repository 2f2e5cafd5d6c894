package pyhost

/*
#include "wsgo.h"
*/
import "C"

import (
	"encoding/binary"
	"strconv"
	"strings"

	"wsgo/wsgi"
)

// packRequest lays out a request for environ.c in one buffer, in the
// format wsgo.h specifies: the fixed fields in the order of WSGO_F_*,
// then the headers as ready-made environ keys (HTTP_USER_AGENT) and
// values, repeated names joined.
func packRequest(r *wsgi.Request) []byte {
	var fields [C.WSGO_F_COUNT]string
	fields[C.WSGO_F_METHOD] = r.Method
	fields[C.WSGO_F_PATH] = unescapePath(r.RawPath)
	fields[C.WSGO_F_SCRIPT_NAME] = unescapePath(r.RawScriptName)
	fields[C.WSGO_F_QUERY] = r.RawQuery
	fields[C.WSGO_F_URI] = r.RequestURI
	fields[C.WSGO_F_PROTO] = r.Proto
	fields[C.WSGO_F_SCHEME] = r.Scheme
	fields[C.WSGO_F_SERVER_NAME] = r.ServerName
	fields[C.WSGO_F_SERVER_PORT] = r.ServerPort
	fields[C.WSGO_F_REMOTE_ADDR] = r.RemoteAddr
	fields[C.WSGO_F_REMOTE_PORT] = r.RemotePort
	fields[C.WSGO_F_CONTENT_TYPE] = r.ContentType
	if r.HasContentLength {
		fields[C.WSGO_F_CONTENT_LENGTH] = strconv.FormatInt(r.ContentLength, 10)
	}
	var absent [C.WSGO_F_COUNT]bool
	absent[C.WSGO_F_CONTENT_TYPE] = r.ContentType == ""
	absent[C.WSGO_F_CONTENT_LENGTH] = !r.HasContentLength

	size := 4*len(fields) + 4 + 21 // and HTTPS: on
	for _, f := range fields {
		size += len(f)
	}
	for _, h := range r.Header {
		size += 13 + len(h.Name) + len(h.Value)
	}
	b := make([]byte, 0, size)
	for i, f := range fields {
		if absent[i] {
			b = binary.NativeEndian.AppendUint32(b, C.WSGO_ABSENT)
		} else {
			b = putField(b, f)
		}
	}
	keys, values := environHeaders(r.Header)
	if r.Scheme == "https" {
		// The CGI variable older code checks instead of wsgi.url_scheme
		// (uWSGI and Apache's mod_ssl set it too).
		keys, values = append(keys, "HTTPS"), append(values, "on")
	}
	b = binary.NativeEndian.AppendUint32(b, uint32(len(keys)))
	for i, k := range keys {
		b = putField(b, k)
		b = putField(b, values[i])
	}
	return b
}

func putField(b []byte, s string) []byte {
	b = binary.NativeEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// environHeaders turns request headers into HTTP_* keys and values.
// Repeated headers are joined with ", " (RFC 9110 5.3), except Cookie,
// joined with "; " as RFC 6265 5.4 and RFC 9113 8.2.3 require.
func environHeaders(hs []wsgi.Header) (keys, values []string) {
	keys = make([]string, 0, len(hs))
	values = make([]string, 0, len(hs))
next:
	for _, h := range hs {
		k := environKey(h.Name)
		for i := range keys {
			if keys[i] == k {
				sep := ", "
				if k == "HTTP_COOKIE" {
					sep = "; "
				}
				values[i] += sep + h.Value
				continue next
			}
		}
		keys = append(keys, k)
		values = append(values, h.Value)
	}
	return keys, values
}

// commonKeys spares an allocation for the headers nearly every request has.
var commonKeys = map[string]string{
	"Host": "HTTP_HOST", "User-Agent": "HTTP_USER_AGENT", "Accept": "HTTP_ACCEPT",
	"Accept-Encoding": "HTTP_ACCEPT_ENCODING", "Accept-Language": "HTTP_ACCEPT_LANGUAGE",
	"Connection": "HTTP_CONNECTION", "Cookie": "HTTP_COOKIE", "Referer": "HTTP_REFERER",
	"Cache-Control": "HTTP_CACHE_CONTROL", "Authorization": "HTTP_AUTHORIZATION",
	"X-Forwarded-For": "HTTP_X_FORWARDED_FOR", "X-Forwarded-Proto": "HTTP_X_FORWARDED_PROTO",
	"X-Request-Id": "HTTP_X_REQUEST_ID", "Origin": "HTTP_ORIGIN",
}

// environKey is the CGI name of a header: HTTP_ + upper case, '-' as '_'.
func environKey(name string) string {
	if k, ok := commonKeys[name]; ok {
		return k
	}
	var sb strings.Builder
	sb.Grow(5 + len(name))
	sb.WriteString("HTTP_")
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-':
			c = '_'
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// unescapePath percent-decodes a raw path into bytes (PATH_INFO is those
// bytes read as latin-1). A '%' not followed by two hex digits is kept as
// is, as wsgiref and gunicorn do.
func unescapePath(s string) string {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// unpackHead reads the reason phrase and headers call.c packed.
func unpackHead(b []byte) (reason string, header []wsgi.Header) {
	take := func() string {
		n := binary.NativeEndian.Uint32(b)
		s := string(b[4 : 4+n])
		b = b[4+n:]
		return s
	}
	reason = take()
	count := binary.NativeEndian.Uint32(b)
	b = b[4:]
	header = make([]wsgi.Header, count)
	for i := range header {
		header[i].Name = take()
		header[i].Value = take()
	}
	return reason, header
}
