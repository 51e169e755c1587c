package header_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/parsecwire/parsecwire/header"
)

// TestFieldOutOfRange: a Field value past the last one names itself and has no place.
func TestFieldOutOfRange(t *testing.T) {
	f := header.FieldAuth + 1
	assert.Equal(t, "Field(17)", f.String())
	assert.Equal(t, 0, f.Offset())
	assert.Equal(t, 0, f.Len())
}
