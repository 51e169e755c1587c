package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/parsecwire/parsecwire/header"
)

// A chunk is a run of bytes decoded as a stream of one or more frames: one line of a hex or
// base64 file, a whole raw file, or one frame of a mock test case.
type chunk struct {
	source string // file name, "-" for stdin
	line   int    // 1-based line for hex and base64 input; 0 otherwise
	kind   string // "response" or "request"
	mock   bool   // from a mock-service test case, which says which kind the frame is
	data   []byte
}

var formats = []string{"auto", "hex", "base64", "raw", "mock"}

// readInput reads one input in format and splits it into chunks. A line that is not valid
// hex or base64 is an input error; the chunks before it are still returned.
func readInput(name string, r io.Reader, format string) ([]chunk, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if format == "auto" {
		format = detect(name, data)
	}
	switch format {
	case "raw":
		return []chunk{{source: name, kind: "response", data: data}}, nil
	case "hex":
		return lines(name, data, func(s string) ([]byte, error) { return hex.DecodeString(hexClean(s)) })
	case "base64":
		return lines(name, data, decodeBase64)
	case "mock":
		return mockCases(name, data)
	}
	return nil, fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(formats, ", "))
}

// detect picks a format by the file's extension, then by its content.
func detect(name string, data []byte) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".hex":
		return "hex"
	case ".b64", ".base64":
		return "base64"
	case ".bin", ".raw", ".cap":
		return "raw"
	case ".yaml", ".yml":
		return "mock"
	}
	if len(data) >= 4 && header.Magic == uint32(data[0])|uint32(data[1])<<8|uint32(data[2])<<16|uint32(data[3])<<24 {
		return "raw"
	}
	if bytes.Contains(data, []byte("test_data:")) {
		return "mock"
	}
	text, hexOnly := true, true
	for _, c := range []byte(hexClean(string(stripComments(data)))) {
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		case 'g' <= c && c <= 'z', 'G' <= c && c <= 'Z', c == '+', c == '/', c == '=', c == '-', c == '_':
			hexOnly = false
		default:
			text, hexOnly = false, false
		}
	}
	switch {
	case hexOnly:
		return "hex"
	case text:
		return "base64"
	}
	return "raw"
}

// hexClean drops what hex dumps put between the digits: white space, and the 0x, commas and
// colons of C arrays and colon-separated dumps ("0x10, 0xa7" or "10:a7").
func hexClean(s string) string {
	s = strings.NewReplacer("0x", "", "0X", "", ",", "", ":", "").Replace(s)
	return strings.Join(strings.Fields(s), "")
}

func stripComments(data []byte) []byte {
	var out []byte
	for _, l := range bytes.Split(data, []byte("\n")) {
		if i := bytes.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		out = append(out, l...)
		out = append(out, '\n')
	}
	return out
}

// lines decodes each line that is not blank or a comment (from # to the end of the line).
func lines(name string, data []byte, decode func(string) ([]byte, error)) ([]chunk, error) {
	var out []chunk
	for i, l := range strings.Split(string(data), "\n") {
		if j := strings.IndexByte(l, '#'); j >= 0 {
			l = l[:j]
		}
		if strings.TrimSpace(l) == "" {
			continue
		}
		b, err := decode(l)
		if err != nil {
			return out, fmt.Errorf("%s:%d: %v", name, i+1, err)
		}
		out = append(out, chunk{source: name, line: i + 1, kind: "response", data: b})
	}
	return out, nil
}

// decodeBase64 takes standard or URL-safe base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Join(strings.Fields(s), "")
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("invalid base64")
}

// mockCase is the part of a Parsec mock service test case (*.test.yaml) that holds frames.
type mockCase struct {
	TestData struct {
		Request  string `yaml:"request"`
		Response string `yaml:"response"`
		Result   string `yaml:"result"` // the older name of response
	} `yaml:"test_data"`
}

// mockCases reads the test cases of a mock-service YAML file, one document per case.
func mockCases(name string, data []byte) ([]chunk, error) {
	var out []chunk
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for n := 0; ; n++ {
		var c mockCase
		err := dec.Decode(&c)
		if err == io.EOF {
			break
		}
		if err != nil {
			return out, fmt.Errorf("%s: case %d: %v", name, n, err)
		}
		td := c.TestData
		if td.Response == "" {
			td.Response = td.Result
		}
		if td.Request == "" && td.Response == "" {
			return out, fmt.Errorf("%s: case %d: no test_data.request or test_data.response", name, n)
		}
		for _, f := range []struct{ kind, b64 string }{{"request", td.Request}, {"response", td.Response}} {
			if f.b64 == "" {
				continue
			}
			b, err := decodeBase64(f.b64)
			if err != nil {
				return out, fmt.Errorf("%s: case %d: test_data.%s: %v", name, n, f.kind, err)
			}
			out = append(out, chunk{source: name, kind: f.kind, mock: true, data: b})
		}
	}
	return out, nil
}

// openInputs reads every named file ("-" or none: stdin) and returns their chunks. Errors
// are reported on stderr; the result says whether any input could not be read.
func openInputs(files []string, format string, stdin io.Reader, stderr io.Writer) ([]chunk, bool) {
	if len(files) == 0 {
		files = []string{"-"}
	}
	files = expandDirs(files)
	var all []chunk
	failed := false
	for _, name := range files {
		var r io.Reader = stdin
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintf(stderr, "parsecwire: %v\n", err)
				failed = true
				continue
			}
			defer f.Close()
			r = f
		}
		cs, err := readInput(name, r, format)
		all = append(all, cs...)
		if err != nil {
			fmt.Fprintf(stderr, "parsecwire: %v\n", err)
			failed = true
		}
	}
	return all, failed
}

// expandDirs replaces each directory among names by the regular files in it, sorted (the
// mock service too loads every case of a folder).
func expandDirs(names []string) []string {
	var out []string
	for _, name := range names {
		entries, err := os.ReadDir(name)
		if name == "-" || err != nil {
			out = append(out, name) // a file, or an error that opening it will report
			continue
		}
		for _, e := range entries {
			if e.Type().IsRegular() {
				out = append(out, filepath.Join(name, e.Name()))
			}
		}
	}
	return out
}
