package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	return string(b)
}

// between returns the text of s between the markers.
func between(t *testing.T, s, begin, end string) string {
	t.Helper()
	i := strings.Index(s, begin)
	require.GreaterOrEqual(t, i, 0, "README lacks %q", begin)
	s = s[i+len(begin):]
	j := strings.Index(s, end)
	require.GreaterOrEqual(t, j, 0, "README lacks %q", end)
	return s[:j]
}

func TestReadmeStatusTable(t *testing.T) {
	got := between(t, readme(t), "<!-- status-table:begin -->\n", "<!-- status-table:end -->")
	assert.Equal(t, markdownTable(), got, "regenerate with: go run ./cmd/parsecwire status -markdown")
}

// TestReadmeExample keeps the README's client and Scanner examples identical to the
// Examples that the wire tests compile and run.
func TestReadmeExample(t *testing.T) {
	src, err := os.ReadFile("../../wire/example_test.go")
	require.NoError(t, err)
	for _, marker := range []string{"example", "scanner"} {
		ex := between(t, string(src), "// "+marker+":begin\n", "\t// "+marker+":end")
		var lines []string
		for _, l := range strings.Split(strings.TrimRight(ex, "\n"), "\n") {
			lines = append(lines, strings.TrimPrefix(l, "\t"))
		}
		assert.Contains(t, readme(t), "```go\n"+strings.Join(lines, "\n")+"\n```", marker)
	}
}

// TestReadmeOutput checks that the output the README shows is what the commands print.
func TestReadmeOutput(t *testing.T) {
	r := readme(t)
	for _, tc := range []struct {
		args   []string
		marker string
	}{
		{[]string{"decode", "testdata/responses.hex"}, "A decoded ListProviders answer:\n\n```\n"},
		{[]string{"validate", "testdata/broken.hex"}, "$ go run ./cmd/parsecwire validate testdata/broken.hex\n"},
	} {
		shown := between(t, r, tc.marker, "```")
		var out, errb bytes.Buffer
		require.NoError(t, os.Chdir("../.."))
		run(tc.args, nil, &out, &errb)
		require.NoError(t, os.Chdir("cmd/parsecwire"))
		for _, l := range strings.Split(strings.TrimSpace(shown), "\n") {
			if l == "..." || l == "" {
				continue
			}
			assert.Contains(t, out.String(), l+"\n", "README line not in the output of %v", tc.args)
		}
	}
}

// TestReadmeHostileLog replays the README's hostile serve run and compares its log.
func TestReadmeHostileLog(t *testing.T) {
	shown := between(t, readme(t), "$ parsecwire serve -cases testdata/mock -mutate 18 &\n", "```")
	require.NoError(t, os.Chdir("../.."))
	defer func() { require.NoError(t, os.Chdir("cmd/parsecwire")) }()
	ts := startServe(t, "-cases", "testdata/mock", "-mutate", "18")
	r := cli(t, "", "probe", "-socket", ts.socket, "-cases", "testdata/mock", "-n", "4", "-expect", "none")
	require.Equal(t, exitInvalid, r.code, "three of the four answers are broken: probe reports them")
	assert.Contains(t, r.stdout, "findings: 3")
	ts.stop()
	n := 0
	for _, l := range strings.Split(shown, "\n") {
		if strings.HasPrefix(l, "request ") {
			n++
			assert.Contains(t, ts.stderr.String(), l+"\n")
		}
	}
	assert.Equal(t, 4, n)
	assert.Contains(t, ts.stdout.String(), "4 mutations sent: body-remove 1, body-utf8 1, header-size 1, truncate 1")
}
