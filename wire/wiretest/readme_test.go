package wiretest_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadmeExample keeps the README's wiretest example identical to Example's, which runs.
func TestReadmeExample(t *testing.T) {
	src, err := os.ReadFile("example_test.go")
	require.NoError(t, err)
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, ex, ok := strings.Cut(string(src), "// example:begin\n")
	require.True(t, ok)
	ex, _, ok = strings.Cut(ex, "\t// example:end")
	require.True(t, ok)
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(ex, "\n"), "\n") {
		lines = append(lines, strings.TrimPrefix(l, "\t"))
	}
	assert.Contains(t, string(readme), "```go\n"+strings.Join(lines, "\n")+"\n```")
}
