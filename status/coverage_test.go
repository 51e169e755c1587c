package status_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/parsecwire/parsecwire/status"
)

// The edges the table-driven tests do not reach: values outside every table.

func TestAliasOfUnknownCode(t *testing.T) {
	assert.Equal(t, "", status.Code(1144).Alias())
	assert.Equal(t, "", status.Code(65535).Alias())
}

func TestClassOutOfRange(t *testing.T) {
	assert.Equal(t, "Class(9)", status.Class(9).String())
}

func TestOfJoinedErrorsWithoutStatus(t *testing.T) {
	_, ok := status.Of(errors.Join(errors.New("a"), errors.New("b")))
	assert.False(t, ok)
	c, ok := status.Of(errors.Join(errors.New("a"), status.InvalidHeader))
	assert.True(t, ok)
	assert.Equal(t, status.InvalidHeader, c)
}
