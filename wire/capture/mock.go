package capture

import (
	"bytes"
	"io"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// maxMockCase is the largest YAML document (one test case) the mock reader holds.
const maxMockCase = 16 << 20

// NewMock reads the Parsec mock service's test cases (*.test.yaml): one case per YAML
// document, its test_data.request and test_data.response (or the older result) the base64
// of whole frames. Each case is a connection of its own ("case N"): its request, then its
// response. Documents are read one at a time, so a file of any number of cases costs one.
func NewMock(r io.Reader) Source { return &mockSource{lines: newLines(r)} }

type mockSource struct {
	lines *lines
	doc   []byte
	line0 int // line of the document's first line
	n     int // cases read
	queue []Segment
	data  [2][]byte
	eof   bool
}

func (m *mockSource) Next() (Segment, error) {
	for len(m.queue) == 0 {
		if m.eof {
			return Segment{}, io.EOF
		}
		if err := m.document(); err != nil {
			return Segment{}, err
		}
	}
	seg := m.queue[0]
	m.queue = m.queue[1:]
	return seg, nil
}

// document reads the next YAML document and queues its frames.
func (m *mockSource) document() error {
	m.doc, m.line0 = m.doc[:0], 0
	tooLong := false
	for {
		b, first, last, err := m.lines.piece()
		if err == io.EOF {
			m.eof = true
			break
		}
		if err != nil {
			return err
		}
		if first && last && (bytes.Equal(bytes.TrimRight(b, " "), []byte("---")) || bytes.HasPrefix(b, []byte("--- "))) {
			if len(bytes.TrimSpace(m.doc)) > 0 {
				break
			}
			continue
		}
		if m.line0 == 0 {
			m.line0 = m.lines.line
		}
		if len(m.doc)+len(b) > maxMockCase {
			tooLong = true
		}
		if !tooLong {
			m.doc = append(m.doc, b...)
			if last {
				m.doc = append(m.doc, '\n')
			}
		}
	}
	if len(bytes.TrimSpace(m.doc)) == 0 {
		return nil
	}
	n := m.n
	m.n++
	fail := func(line int, reason string) error {
		return &InputError{Line: line, Format: "mock", Reason: "case " + strconv.Itoa(n) + ": " + reason}
	}
	if tooLong {
		return fail(m.line0, "longer than "+strconv.Itoa(maxMockCase)+" bytes, not read")
	}
	var root yaml.Node
	if err := yaml.Unmarshal(m.doc, &root); err != nil {
		return fail(m.line0, err.Error())
	}
	td := mapValue(docRoot(&root), "test_data")
	if td == nil {
		return fail(m.line0, "no test_data")
	}
	conn := "case " + strconv.Itoa(n)
	found := false
	for i, f := range []struct {
		key string
		dir Dir
	}{{"request", DirRequest}, {"response", DirResponse}} {
		v := mapValue(td, f.key)
		if v == nil && f.dir == DirResponse {
			v = mapValue(td, "result") // the older name
		}
		if v == nil || v.Kind != yaml.ScalarNode {
			continue
		}
		d := lineDecoder{out: m.data[i][:0]}
		line := m.line0 + v.Line - 1
		if j, why := decodeBase64(&d, []byte(v.Value)); j >= 0 {
			return fail(line, "test_data."+f.key+": "+why)
		}
		if why := finishBase64(&d); why != "" {
			return fail(line, "test_data."+f.key+": "+why)
		}
		m.data[i] = d.out
		found = true
		m.queue = append(m.queue, Segment{Conn: conn, Dir: f.dir, Data: d.out, Line: line, Start: true, End: true})
	}
	if !found {
		return fail(m.line0, "no test_data.request or test_data.response")
	}
	return nil
}

func docRoot(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	return n
}

// mapValue returns the value of key in a YAML mapping, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
