package wiretest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
)

// Case is one test case of the Parsec mock service (parsec-mock): the bytes of a request and
// of the response the service sends when it receives exactly those bytes.
type Case struct {
	Source   string // the file it came from, for the log
	Index    int    // the document's index in that file, from 0
	Request  []byte // nil when the case gives only a response (old files)
	Response []byte // nil when the case gives only a request
}

// mockDoc is the part of a mock-service test case (*.test.yaml) that holds frames.
type mockDoc struct {
	TestData struct {
		Request  string `yaml:"request"`
		Response string `yaml:"response"`
		Result   string `yaml:"result"` // the older name of response
	} `yaml:"test_data"`
}

// ParseCases reads the test cases of one mock-service YAML file, one document per case:
// test_data.request and test_data.response (or its older name, result), each the base64 of
// a whole frame. name is used in errors and in Case.Source.
func ParseCases(name string, data []byte) ([]Case, error) {
	var out []Case
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for n := 0; ; n++ {
		var d mockDoc
		err := dec.Decode(&d)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("%s: case %d: %v", name, n, err)
		}
		td := d.TestData
		if td.Response == "" {
			td.Response = td.Result
		}
		if td.Request == "" && td.Response == "" {
			return out, fmt.Errorf("%s: case %d: no test_data.request or test_data.response", name, n)
		}
		c := Case{Source: name, Index: n}
		for _, f := range []struct {
			field string
			b64   string
			dst   *[]byte
		}{{"request", td.Request, &c.Request}, {"response", td.Response, &c.Response}} {
			if f.b64 == "" {
				continue
			}
			b, err := decodeBase64(f.b64)
			if err != nil {
				return out, fmt.Errorf("%s: case %d: test_data.%s: %v", name, n, f.field, err)
			}
			*f.dst = b
		}
		out = append(out, c)
	}
}

// decodeBase64 takes standard or URL-safe base64, padded or not, with white space anywhere.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Join(strings.Fields(s), "")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("invalid base64")
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
