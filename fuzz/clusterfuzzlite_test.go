package fuzz_test

import (
	"os"
	"regexp"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClusterFuzzLiteBuildsEveryTarget keeps .clusterfuzzlite/build.sh and .ci/run in step
// with the fuzz targets declared in this package.
func TestClusterFuzzLiteBuildsEveryTarget(t *testing.T) {
	var targets []string
	for _, file := range []string{"fuzz_test.go"} {
		src, err := os.ReadFile(file)
		require.NoError(t, err)
		for _, m := range regexp.MustCompile(`(?m)^func (Fuzz\w+)\(f \*testing\.F\)`).FindAllStringSubmatch(string(src), -1) {
			targets = append(targets, m[1])
		}
	}
	require.GreaterOrEqual(t, len(targets), 6)
	build, err := os.ReadFile("../.clusterfuzzlite/build.sh")
	require.NoError(t, err)
	var listed []string
	for _, m := range regexp.MustCompile(`(?m)^  (Fuzz\w+)$`).FindAllStringSubmatch(string(build), -1) {
		listed = append(listed, m[1])
	}
	sort.Strings(targets)
	sort.Strings(listed)
	assert.Equal(t, targets, listed, "build.sh lists every target")
}
