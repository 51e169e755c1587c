package operation

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/parsecwire/parsecwire/header"
)

// TestTable holds the schema to what the package assumes of it, message by message.
func TestTable(t *testing.T) {
	seen := map[*MessageDesc]bool{}
	var visit func(m *MessageDesc, depth int)
	visit = func(m *MessageDesc, depth int) {
		if seen[m] {
			return
		}
		seen[m] = true
		require.Less(t, depth, maxDepth, "%s nests deeper than a walker's path", m.Name)
		assert.LessOrEqual(t, len(m.Fields), maxFields, "%s: a scan holds at most maxFields fields", m.Name)
		names := map[string]bool{}
		members := 0
		for i, f := range m.Fields {
			if i > 0 {
				assert.Greater(t, f.Number, m.Fields[i-1].Number, "%s: fields in number order", m.Name)
			}
			assert.GreaterOrEqual(t, f.Number, protowire.MinValidNumber)
			assert.False(t, names[f.Name], "%s.%s twice", m.Name, f.Name)
			names[f.Name] = true
			assert.Equal(t, f.Kind == KindMessage, f.Message != nil, "%s.%s: a message field has a MessageDesc", m.Name, f.Name)
			assert.Equal(t, f.Kind == KindEnum, f.Enum != nil, "%s.%s: an enum field has an EnumDesc", m.Name, f.Name)
			assert.False(t, f.Required && f.Kind != KindMessage, "%s.%s: only messages are required", m.Name, f.Name)
			assert.False(t, f.Oneof && f.Repeated, "%s.%s: a oneof member is not repeated", m.Name, f.Name)
			if f.Oneof {
				members++
			}
			if f.Enum != nil {
				assert.NotZero(t, f.Enum.Unknown, "%s: an enum says what an unknown value gets", f.Enum.Name)
			}
			if f.Message != nil {
				visit(f.Message, depth+1)
			}
		}
		assert.Equal(t, m.Oneof != "", members > 0, "%s: a oneof has members", m.Name)
	}
	for _, e := range table {
		visit(e.request, 0)
		visit(e.result, 0)
	}
	// Every opcode the header package names has a schema, and nothing else does.
	for op := uint32(0); op < maxOpcode; op++ {
		_, named := header.OpcodeName(op)
		_, described := Lookup(op, Request)
		assert.Equal(t, named, described, "opcode %d", op)
	}
	assert.Len(t, Opcodes(), 29)
}
