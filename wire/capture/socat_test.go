package capture_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/wire/capture"
)

func TestSocat(t *testing.T) {
	tests := []struct {
		name     string
		log      string
		reversed bool
		want     []string
	}{
		{
			name: "both directions; the text rendering is ignored, hex-like or not",
			log: `> 2026/11/29 09:00:00.123456  length=20 from=0 to=19
 10 a7 c0 5e 1e 00 01 00 00 00 00 00 00 00 00 00  ...^............
 ab cd ef 01                                      ab cd ef 01
--
< 2026/11/29 09:00:00.124000  length=2 from=0 to=1
 08 01                                            ..
--
`,
			want: []string{"conn 1|request|10a7c05e1e0001000000000000000000abcdef01|start", "conn 1|response|0801|start"},
		},
		{
			name:     "reversed: > is the service's",
			reversed: true,
			log: `> 2026/11/29 09:00:00.123456  length=1 from=0 to=0
 0a                                               .
--
`,
			want: []string{"conn 1|response|0a|start"},
		},
		{
			name: "from=0 again: the next connection (fork children one after another)",
			log: `> 2026/11/29 09:00:00.000001  length=1 from=0 to=0
 01                                               .
--
< 2026/11/29 09:00:00.000002  length=1 from=0 to=0
 02                                               .
--
> 2026/11/29 09:00:00.000003  length=1 from=1 to=1
 03                                               .
--
> 2026/11/29 09:00:00.000004  length=1 from=0 to=0
 04                                               .
--
< 2026/11/29 09:00:00.000005  length=1 from=0 to=0
 05                                               .
--
`,
			want: []string{
				"conn 1|request|01|start", "conn 1|response|02|start", "conn 1|request|03",
				"conn 2|request|04|start", "conn 2|response|05|start",
			},
		},
		{
			name: "overlapping children told apart by their offsets",
			log: `> 2026/11/29 09:00:00.000001  length=2 from=0 to=1
 01 01                                            ..
--
> 2026/11/29 09:00:00.000002  length=3 from=0 to=2
 02 02 02                                         ...
--
> 2026/11/29 09:00:00.000003  length=1 from=2 to=2
 01                                               .
--
> 2026/11/29 09:00:00.000004  length=1 from=3 to=3
 02                                               .
--
`,
			want: []string{"conn 1|request|0101|start", "conn 2|request|020202|start", "conn 1|request|01", "conn 2|request|02"},
		},
		{
			name: "socat -d -d: connections named by the child's pid, ended when it exits",
			log: `2026/11/29 09:00:00 socat[100] N listening on AF=1 "/tmp/proxy.sock"
2026/11/29 09:00:01 socat[100] N accepting connection from AF=1 "<anon>" on AF=1 "/tmp/proxy.sock"
2026/11/29 09:00:01 socat[101] N starting data transfer loop with FDs [6,6] and [5,5]
> 2026/11/29 09:00:01.000001  length=1 from=0 to=0
 01                                               .
--
< 2026/11/29 09:00:01.000002  length=1 from=0 to=0
 02                                               .
--
2026/11/29 09:00:01 socat[101] N exiting with status 0
`,
			want: []string{"socat[101]|request|01|start", "socat[101]|response|02|start", "socat[101]|request||end", "socat[101]|response||end"},
		},
		{
			name: "a block cut short: an error, and the rest as Missing",
			log: `> 2026/11/29 09:00:00.000001  length=20 from=0 to=19
 10 a7 c0 5e                                      ...^
--
> 2026/11/29 09:00:00.000002  length=4 from=20 to=23
 01 02`,
			want: []string{
				"error line 1: block ends after 4 of its length=20 bytes", "conn 1|request|10a7c05e|start|missing=16",
				"error line 4: input ends after 2 of its length=4 bytes", "conn 1|request|0102|missing=2",
			},
		},
		{
			name: "malformed lines are errors; reading goes on",
			log: ` 01 02                                            ..
> 2026/11/29 09:00:00.000001  length=x from=0 to=0
 03                                               .
--
> 2026/11/29 09:00:00.000002  length=1 from=0 to=0
 04                                               .
 zz
--
> 2026/11/29 09:00:00.000003  length=1 from=7 to=7
 05                                               .
--
> 2026/11/29 09:00:00.000003  length=1 from=0 to=0
 06 07                                            ..
--
`,
			want: []string{
				"error line 1: hex line outside a block",
				"error line 2: malformed block header",
				"error line 7: not a hex line of the block",
				"conn 1|request|04|start",
				"error line 9: from=7 does not follow any earlier block",
				"conn 1|request|05",
				"error line 13: block holds more bytes than its length=1",
				"conn 2|request|0607|start",
			},
		},
		{
			name: "socat -v without -x: text blocks are reported and skipped",
			log: `> 2026/11/29 09:00:00.000001  length=5 from=0 to=4
hello--
< 2026/11/29 09:00:00.000002  length=1 from=0 to=0
 0a                                               .
--
`,
			want: []string{"error line 2: block is not a hex dump", "conn 1|response|0a|start"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := capture.NewSocat(strings.NewReader(tt.log))
			if tt.reversed {
				src = capture.NewSocatReversed(strings.NewReader(tt.log))
			}
			hasPrefixes(t, tt.want, drain(t, src))
		})
	}
}

const socatSample = `> 2026/11/29 09:36:53.000627153  length=36 from=0 to=35
 10 a7 c0 5e 1e 00 01 00 00 00 00 00 00 00 00 00  ...^............
 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00  ................
 00 00 00 00                                      ....
--
< 2026/11/29 09:36:53.000628244  length=38 from=0 to=37
 10 a7 c0 5e 1e 00 01 00 00 00 00 00 00 00 00 00  ...^............
 00 00 00 00 00 00 02 00 00 00 00 00 01 00 00 00  ................
 00 00 00 00 08 01                                ......
--
> 2026/11/29 09:36:53.000652648  length=2 from=0 to=1
 70 61                                            pa
--
`

func TestSocatHostile(t *testing.T) {
	want := drain(t, capture.NewSocat(strings.NewReader(socatSample)))
	require.Len(t, want, 3)
	t.Run("cut at every byte", func(t *testing.T) {
		for i := range len(socatSample) {
			got := drain(t, capture.NewSocat(strings.NewReader(socatSample[:i])))
			assert.LessOrEqual(t, dataBytes(got), i, "cut at %d", i)
		}
	})
	t.Run("readers that return little at a time", func(t *testing.T) {
		for name, r := range map[string]io.Reader{
			"one byte": iotest.OneByteReader(strings.NewReader(socatSample)),
			"half":     iotest.HalfReader(strings.NewReader(socatSample)),
			"data+EOF": iotest.DataErrReader(strings.NewReader(socatSample)),
		} {
			assert.Equal(t, want, drain(t, capture.NewSocat(r)), name)
		}
	})
	t.Run("a read error ends the source with it", func(t *testing.T) {
		got := drain(t, capture.NewSocat(iotest.TimeoutReader(strings.NewReader(socatSample))))
		require.NotEmpty(t, got)
		assert.Equal(t, "fatal: "+iotest.ErrTimeout.Error(), got[len(got)-1])
		assert.Equal(t, []string{"fatal: boom"}, drain(t, capture.NewSocat(iotest.ErrReader(errors.New("boom")))))
	})
	t.Run("huge lengths, many blocks, garbage", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("> 2026/11/29 09:00:00.000001  length=9223372036854775807 from=0 to=9223372036854775806\n 01\n--\n")
		b.WriteString("> 2026/11/29 09:00:00.000001  length=99999999999999999999 from=0 to=0\n")
		for i := range 2000 {
			fmt.Fprintf(&b, "> 2026/11/29 09:00:00.000001  length=1 from=0 to=0\n %02x\n--\n", i%256)
		}
		b.WriteString(strings.Repeat("\x00\xff>", 5000) + "\n")
		log := b.String()
		got := drain(t, capture.NewSocat(strings.NewReader(log)))
		assert.Contains(t, got, "conn 1|request|01|start|missing=9223372036854775806")
		assert.LessOrEqual(t, dataBytes(got), len(log))
	})
}

func ExampleNewSocat() {
	// socat -x -v UNIX-LISTEN:/tmp/proxy.sock,fork UNIX-CONNECT:/run/parsec/parsec.sock 2>socat.log
	log := `> 2026/11/29 09:00:00.123456  length=4 from=0 to=3
 10 a7 c0 5e                                      ...^
--
< 2026/11/29 09:00:00.124000  length=2 from=0 to=1
 08 01                                            ..
--
`
	src := capture.NewSocat(strings.NewReader(log))
	for {
		seg, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s %s: % x\n", seg.Conn, seg.Dir, seg.Data)
	}
	// Output:
	// conn 1 request: 10 a7 c0 5e
	// conn 1 response: 08 01
}
