package wiretest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire/capture"
)

// Case is one test case of the Parsec mock service (parsec-mock): the bytes of a request and
// of the response the service sends when it receives exactly those bytes.
type Case struct {
	Source   string // the file it came from, for the log
	Index    int    // the case's index in that file, from 0
	Request  []byte // nil when the case gives only a response (old files)
	Response []byte // nil when the case gives only a request
}

// ParseCases reads the test cases of one mock-service YAML file, one document per case:
// test_data.request and test_data.response (or its older name, result), each the base64 of
// a whole frame. name is used in errors and in Case.Source. It reads them with
// capture.NewMock, the reader decode uses, so that serve plays exactly the frames decode
// shows.
func ParseCases(name string, data []byte) ([]Case, error) {
	src := capture.NewMock(bytes.NewReader(data))
	var out []Case
	index := map[string]int{} // a case's connection name -> its index in out
	for {
		seg, err := src.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("%s: %v", name, err)
		}
		i, ok := index[seg.Conn]
		if !ok {
			i = len(out)
			index[seg.Conn] = i
			out = append(out, Case{Source: name, Index: i})
		}
		frame := append([]byte(nil), seg.Data...) // Data is valid until the next call
		if seg.Dir == capture.DirRequest {
			out[i].Request = frame
		} else {
			out[i].Response = frame
		}
	}
}

// LoadCases reads every *.yaml and *.yml file of a folder, in name order, as the mock
// service loads a folder, and returns the cases that have both a request and a response.
// A folder without one is an error.
func LoadCases(dir string) ([]Case, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.Type().IsRegular() && (ext == ".yaml" || ext == ".yml") {
			names = append(names, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(names)
	var out []Case
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		cs, err := ParseCases(name, data)
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			if c.Request == nil || c.Response == nil {
				return nil, fmt.Errorf("%s: case %d: a test case needs test_data.request and test_data.response", name, c.Index)
			}
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no test case with a request and a response", dir)
	}
	return out, nil
}

// UnmatchedStatus answers a readable request that no scripted case matches.
// PsaErrorNotSupported says what happened (this implementation, the script, does not support
// that request) in a status every client already handles, and the answer echoes the
// request's provider, session and opcode, so that a client's own echo checks pass and it
// reports the status. The Parsec mock service stays silent instead, which a client sees only
// as its own timeout.
const UnmatchedStatus = status.PsaErrorNotSupported

// Cases is a Handler that answers a request whose bytes are exactly a case's request with
// that case's response, byte for byte, and any other readable request with an echo carrying
// UnmatchedStatus. When two cases share a request, the last one wins, as in the mock service.
type Cases struct {
	// by the request's 36 header bytes, so that a lookup copies nothing: the body and auth
	// bytes are compared in the server's buffer.
	byHeader map[[header.Size]byte][]*Case
	n        int
}

// NewCases returns a Cases handler for cs (LoadCases). Cases without a request or a
// response, or whose request is shorter than a header, are ignored.
func NewCases(cs []Case) *Cases {
	h := &Cases{byHeader: map[[header.Size]byte][]*Case{}}
	for i := range cs {
		c := &cs[i]
		if len(c.Request) < header.Size || c.Response == nil {
			continue
		}
		key := [header.Size]byte(c.Request[:header.Size])
		list := h.byHeader[key]
		replaced := false
		for j, old := range list {
			if bytes.Equal(old.Request, c.Request) {
				list[j], replaced = c, true
			}
		}
		if !replaced {
			list = append(list, c)
			h.n++
		}
		h.byHeader[key] = list
	}
	return h
}

// Len returns the number of distinct requests the handler answers.
func (h *Cases) Len() int { return h.n }

// Match returns the case whose request is exactly r's bytes, or nil.
func (h *Cases) Match(r *Request) *Case {
	var key [header.Size]byte
	r.Header.AppendRaw(key[:0])
	for _, c := range h.byHeader[key] {
		rest := c.Request[header.Size:]
		if len(rest) == len(r.Body)+len(r.Auth) && bytes.Equal(rest[:len(r.Body)], r.Body) && bytes.Equal(rest[len(r.Body):], r.Auth) {
			return c
		}
	}
	return nil
}

// ServeParsec answers r from the matching case, or with UnmatchedStatus.
func (h *Cases) ServeParsec(w ResponseWriter, r *Request) {
	if c := h.Match(r); c != nil {
		if _, err := w.Write(c.Response); err == nil {
			w.Note(opName(r.Header.Opcode) + " matched " + c.Source)
		}
		return
	}
	rh := header.Header{Provider: r.Header.Provider, Session: r.Header.Session, Opcode: r.Header.Opcode,
		ContentType: r.Header.AcceptType, Status: UnmatchedStatus}
	if err := w.WriteResponse(rh, nil); err == nil {
		w.Note(opName(r.Header.Opcode) + " matched no case: answered " + UnmatchedStatus.String())
	}
}
