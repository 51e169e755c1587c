package capture_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/wire/capture"
)

// brief renders a segment or an error in one line, for tables:
// "conn|dir|hex|flags", flags among start, end, rev, missing=N; "error line N: reason".
func brief(seg capture.Segment, err error) string {
	if err != nil {
		var ie *capture.InputError
		if errors.As(err, &ie) {
			return "error line " + strconv.Itoa(ie.Line) + ": " + ie.Reason
		}
		return "fatal: " + err.Error()
	}
	s := seg.Conn + "|" + seg.Dir.String() + "|" + hex.EncodeToString(seg.Data)
	if seg.Start {
		s += "|start"
	}
	if seg.End {
		s += "|end"
	}
	if seg.Reverse {
		s += "|rev"
	}
	if seg.Missing != 0 {
		s += "|missing=" + strconv.FormatInt(seg.Missing, 10)
	}
	return s
}

// drain reads a source to io.EOF (or a fatal error) and renders every item with brief.
func drain(t testing.TB, src capture.Source) []string {
	t.Helper()
	var out []string
	for i := 0; ; i++ {
		require.Less(t, i, 1<<20, "the source does not end")
		seg, err := src.Next()
		if err == io.EOF {
			return out
		}
		out = append(out, brief(seg, err))
		var ie *capture.InputError
		if err != nil && !errors.As(err, &ie) {
			return out
		}
	}
}

// hasPrefixes checks that got's items start with the wanted prefixes, one for one (an error's
// reason may go on).
func hasPrefixes(t *testing.T, want, got []string) {
	t.Helper()
	if !assert.Len(t, got, len(want), "got:\n%s", strings.Join(got, "\n")) {
		return
	}
	for i := range want {
		assert.True(t, strings.HasPrefix(got[i], want[i]), "item %d: got %q, want %q", i, got[i], want[i])
	}
}

func TestStrace(t *testing.T) {
	tests := []struct {
		name string
		log  string
		want []string
	}{
		{
			name: "client with -f -o: connect, write, read, close",
			log: `4242  socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 3<UNIX-STREAM:[100]>
4242  connect(3<UNIX-STREAM:[100]>, {sa_family=AF_UNIX, sun_path="/run/parsec/parsec.sock"}, 25) = 0
4242  write(3<UNIX-STREAM:[100->101]>, "\x10\xa7\xc0\x5e", 4) = 4
4242  read(3<UNIX-STREAM:[100->101]>, "\x10\xa7", 4096) = 2
4242  close(3<UNIX-STREAM:[100->101]>) = 0
`,
			want: []string{
				"pid 4242 fd 3|request|10a7c05e|start",
				"pid 4242 fd 3|response|10a7|start",
				"pid 4242 fd 3|request||end",
				"pid 4242 fd 3|response||end",
			},
		},
		{
			name: "[pid N] prefixes, -tt and -T, no decorations",
			log: `[pid  77] 09:00:00.000001 connect(5, {sa_family=AF_UNIX, sun_path="/tmp/p.sock"}, 14) = 0 <0.000010>
[pid  77] 09:00:00.000002 sendto(5, "\x01\x02", 2, MSG_NOSIGNAL, NULL, 0) = 2 <0.000010>
[pid  77] 09:00:00.000003 recvfrom(5, "\x03", 65536, 0, NULL, NULL) = 1 <0.000010>
`,
			want: []string{"pid 77 fd 5|request|0102|start", "pid 77 fd 5|response|03|start"},
		},
		{
			name: "-ttt and -r timestamps, no pid",
			log: `1700000000.000001 connect(5, {sa_family=AF_UNIX}, 14) = 0
     0.000123 write(5, "\x01", 1) = 1
`,
			want: []string{"fd 5|request|01|start"},
		},
		{
			name: "unfinished and resumed, another thread in between",
			log: `10  connect(3, {sa_family=AF_UNIX}, 14) = 0
10  write(3, "\x01\x02\x03", 3 <unfinished ...>
11  futex(0x1, FUTEX_WAKE_PRIVATE, 1) = 1
10  <... write resumed>) = 3
10  read(3,  <unfinished ...>
11  read(4</etc/hosts>, "x", 1) = 1
10  <... read resumed>"\x04\x05", 4096) = 2
`,
			want: []string{"pid 10 fd 3|request|010203|start", "pid 10 fd 3|response|0405|start"},
		},
		{
			name: "-s cut a write and a read: Missing, not a short frame",
			log: `10  connect(3, {sa_family=AF_UNIX}, 14) = 0
10  write(3, "\x10\xa7"..., 36) = 36
10  read(3, "\x10"..., 4096) = 100
`,
			want: []string{"pid 10 fd 3|request|10a7|start|missing=34", "pid 10 fd 3|response|10|start|missing=99"},
		},
		{
			name: "a short write moves the first bytes only",
			log: `10  connect(3, {sa_family=AF_UNIX}, 14) = 0
10  write(3, "\x01\x02\x03\x04", 4) = 2
10  write(3, "\x03\x04", 2) = 2
`,
			want: []string{"pid 10 fd 3|request|0102|start", "pid 10 fd 3|request|0304"},
		},
		{
			name: "service side: accept4, reads are requests",
			log: `20  accept4(3<UNIX-STREAM:[5,"/run/parsec/parsec.sock"]>, NULL, NULL, SOCK_CLOEXEC) = 6<UNIX-STREAM:[7->8,"/run/parsec/parsec.sock"]>
20  read(6<UNIX-STREAM:[7->8,"/run/parsec/parsec.sock"]>, "\x0a", 4) = 1
20  write(6<UNIX-STREAM:[7->8,"/run/parsec/parsec.sock"]>, "\x0b", 1) = 1
20  read(6<UNIX-STREAM:[7->8,"/run/parsec/parsec.sock"]>, "", 4) = 0
`,
			want: []string{"pid 20 fd 6|request|0a|start", "pid 20 fd 6|response|0b|start", "pid 20 fd 6|request||end"},
		},
		{
			name: "-yy shows the socket's own path: the service's end",
			log: `20  read(6<UNIX-STREAM:[7->8,"\x2f\x72\x75\x6e\x2f\x70\x2e\x73\x6f\x63\x6b"]>, "\x0a", 4) = 1
`,
			want: []string{"pid 20 fd 6|request|0a|start"},
		},
		{
			name: "unknown fd: DirUnknown, reads reversed",
			log: `30  write(4, "\x01", 1) = 1
30  read(4, "\x02", 1) = 1
`,
			want: []string{"pid 30 fd 4|unknown|01|start", "pid 30 fd 4|unknown|02|start|rev"},
		},
		{
			name: "files, pipes and datagram sockets skipped",
			log: `30  read(3</etc/passwd>, "root", 4) = 4
30  read(3<\x2f\x65\x74\x63\x2f\x70\x61\x73\x73\x77\x64>, "root", 4) = 4
30  write(4<pipe:[123]>, "x", 1) = 1
30  write(5<UDP:[1.2.3.4:5->6.7.8.9:10]>, "x", 1) = 1
30  read(6<anon_inode:[eventfd]>, "\x01\x00\x00\x00\x00\x00\x00\x00", 8) = 8
`,
			want: nil,
		},
		{
			name: "an fd closed and connected again is the next connection",
			log: `10  connect(3, {sa_family=AF_UNIX}, 14) = 0
10  write(3, "\x01", 1) = 1
10  close(3) = 0
10  socket(AF_UNIX, SOCK_STREAM, 0) = 3
10  connect(3, {sa_family=AF_UNIX}, 14) = 0
10  write(3, "\x02", 1) = 1
`,
			want: []string{"pid 10 fd 3|request|01|start", "pid 10 fd 3|request||end", "pid 10 fd 3 #2|request|02|start"},
		},
		{
			name: "a thread from clone3 shares the fd table",
			log: `10  connect(3, {sa_family=AF_UNIX}, 14) = 0
10  clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD, child_tid=0x7f}strace: Process 11 attached
 => {parent_tid=[11]}, 88) = 11
11  write(3, "\x01", 1) = 1
11  read(3, "\x02", 1) = 1
`,
			want: []string{"pid 10 fd 3|request|01|start", "pid 10 fd 3|response|02|start"},
		},
		{
			name: "lines without a pid until a second process: the first pid seen is theirs",
			log: `connect(3, {sa_family=AF_UNIX}, 14) = 0
clone(child_stack=0x1, flags=CLONE_VM|CLONE_FILES|CLONE_THREAD) = 51
[pid    50] write(3, "\x01", 1) = 1
[pid    51] read(3, "\x02", 1) = 1
`,
			want: []string{"fd 3|request|01|start", "fd 3|response|02|start"},
		},
		{
			name: "a thread the log does not announce, joined by the socket inode",
			log: `10  connect(3<UNIX-STREAM:[500]>, {sa_family=AF_UNIX}, 14) = 0
12  read(3<UNIX-STREAM:[500->501]>, "\x02", 1) = 1
`,
			want: []string{"pid 10 fd 3|response|02|start"},
		},
		{
			name: "-y: socket:[inode] joins a thread; a path decoration on a Unix socket is the service's",
			log: `10  connect(3<socket:[500]>, {sa_family=AF_UNIX}, 14) = 0
12  read(3<socket:[500]>, "\x02", 1) = 1
10  read(4<UNIX:[600,"/run/parsec/parsec.sock"]>, "\x03", 1) = 1
`,
			want: []string{"pid 10 fd 3|response|02|start", "pid 10 fd 4|request|03|start"},
		},
		{
			name: "a fork gets a copy: the connection ends when both close",
			log: `10  connect(3, {sa_family=AF_UNIX}, 14) = 0
10  fork() = 13
10  close(3) = 0
13  write(3, "\x01", 1) = 1
13  close(3) = 0
`,
			want: []string{"pid 10 fd 3|request|01|start", "pid 10 fd 3|request||end"},
		},
		{
			name: "msg and vector calls: the iov buffers in order",
			log: `10  connect(3, {sa_family=AF_UNIX}, 14) = 0
10  sendmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="\x01\x02", iov_len=2}, {iov_base="\x03", iov_len=1}], msg_iovlen=2, msg_controllen=0, msg_flags=0}, MSG_NOSIGNAL) = 3
10  recvmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="\x04\x05", iov_len=4096}], msg_iovlen=1, msg_controllen=0, msg_flags=MSG_CMSG_CLOEXEC}, MSG_CMSG_CLOEXEC) = 2
10  writev(3, [{iov_base="\x06", iov_len=1}, {iov_base="\x07\x08", iov_len=2}], 2) = 3
10  readv(3, [{iov_base="\x09", iov_len=1}, {iov_base="\x0a"..., iov_len=30}], 2) = 31
`,
			want: []string{
				"pid 10 fd 3|request|010203|start", "pid 10 fd 3|response|0405|start",
				"pid 10 fd 3|request|060708", "pid 10 fd 3|response|090a|missing=29",
			},
		},
		{
			name: "MSG_PEEK moves nothing; sendfile and splice move bytes the log does not show",
			log: `10  connect(3, {sa_family=AF_UNIX}, 14) = 0
10  recvfrom(3, "\x01", 1, MSG_PEEK, NULL, NULL) = 1
10  recvmsg(3, {msg_iov=[{iov_base="\x01", iov_len=1}], msg_iovlen=1}, MSG_PEEK) = 1
10  recvfrom(3, "\x01", 1, 0, NULL, NULL) = 1
10  sendfile(3, 4</tmp/request.bin>, NULL, 36) = 36
10  splice(5<pipe:[9]>, NULL, 3, NULL, 7, 0) = 7
`,
			want: []string{"pid 10 fd 3|response|01|start", "pid 10 fd 3|request||start|missing=36", "pid 10 fd 3|request||missing=7"},
		},
		{
			name: "an iovec array that strace did not print in full; a recvmsg that got nothing",
			log: `10  connect(3, {sa_family=AF_UNIX}, 14) = 0
10  writev(3, [{iov_base="\x01", iov_len=1}, {iov_base="\x02", iov_len=1}, ...], 40) = 40
10  recvmsg(3, {msg_name=NULL, msg_namelen=0, msg_iov=[], msg_iovlen=0, msg_controllen=0, msg_flags=0}, 0) = 0
10  readv(3, [{iov_base=0x7ffd, iov_len=4}], 1) = 4
`,
			want: []string{"pid 10 fd 3|request|0102|start|missing=38", "pid 10 fd 3|response||start|end", "error line 4: readv: the buffer is not a string"},
		},
		{
			name: "strings without -x: printable bytes, C and octal escapes",
			log: `10  connect(3, {sa_family=AF_UNIX}, 14) = 0
10  write(3, "ab\n\t\"\\\0\1\377\0011", 11) = 11
`,
			want: []string{"pid 10 fd 3|request|61620a09225c0001ff0131|start"},
		},
		{
			name: "shutdown ends the writing side; failed calls move nothing",
			log: `10  connect(3, {sa_family=AF_UNIX}, 14) = -1 EINPROGRESS (Operation now in progress)
10  write(3, "\x01", 1) = 1
10  shutdown(3, SHUT_WR) = 0
10  read(3, 0x7ffd1234, 4096) = -1 EAGAIN (Resource temporarily unavailable)
10  read(3, "\x02", 4096) = 1
10  read(3, "", 4096) = 0
`,
			want: []string{"pid 10 fd 3|request|01|start", "pid 10 fd 3|request||end", "pid 10 fd 3|response|02|start", "pid 10 fd 3|response||end"},
		},
		{
			name: "a malformed data line is an error with its line number; reading goes on",
			log: `10  connect(3, {sa_family=AF_UNIX}, 14) = 0
10  write(3, "\x1g", 2) = 2
10  write(3, "\x01\x02, 2) = 2
10  write(3, "\x01", 5) = 5
10  <... read resumed>"\x01", 4) = 1
garbage that is not strace at all (((
--- SIGCHLD {si_signo=SIGCHLD} ---
+++ exited with 0 +++
10  write(3, "\x03", 1) = 1
10  write(3, "\x04"
`,
			want: []string{
				"error line 2: write: the buffer is not",
				"error line 3: write: the argument list does not end",
				"error line 4: write returned 5 but the line shows 1 bytes",
				"pid 10 fd 3|request|01|start|missing=4",
				"error line 5: read resumed, but the log does not show where it started",
				"pid 10 fd 3|request|03",
				"error line 10: write: the argument list does not end",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hasPrefixes(t, tt.want, drain(t, capture.NewStrace(strings.NewReader(tt.log))))
		})
	}
}

func TestInputErrorMessage(t *testing.T) {
	_, err := capture.NewStrace(strings.NewReader("1  connect(3, {}, 1) = 0\n1  write(3, \"\\x1\", 1) = 1\n")).Next()
	var ie *capture.InputError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, 2, ie.Line)
	assert.Equal(t, int64(25), ie.Offset)
	assert.Equal(t, "line 2: strace: write: the buffer is not a string strace writes: \"\\\"\\\\x1\\\"\"", err.Error())
}

// straceSample is a log with every kind of line the reader handles, for the hostile tests.
const straceSample = `4242  execve("/usr/bin/client", ["client"], 0x7ffd /* 3 vars */) = 0
4242  socket(AF_UNIX, SOCK_STREAM|SOCK_CLOEXEC, 0) = 3<UNIX-STREAM:[100]>
4242  connect(3<UNIX-STREAM:[100]>, {sa_family=AF_UNIX, sun_path="/run/parsec/parsec.sock"}, 25) = 0
4242  clone3({flags=CLONE_VM|CLONE_FILES|CLONE_THREAD}, 88) = 4243
4242  write(3<UNIX-STREAM:[100->101]>, "\x10\xa7\xc0\x5e\x1e\x00\x01\x00", 8 <unfinished ...>
4243  read(3<UNIX-STREAM:[100->101]>,  <unfinished ...>
4242  <... write resumed>) = 8
4243  <... read resumed>"\x10\xa7\xc0\x5e"..., 4096) = 38
4242  sendmsg(3<UNIX-STREAM:[100->101]>, {msg_iov=[{iov_base="\x01\x02", iov_len=2}], msg_iovlen=1}, 0) = 2
4242  read(3<\x2f\x65\x74\x63>, "abc", 3) = 3
4242  close(3<UNIX-STREAM:[100->101]>) = 0
`

func TestStraceHostile(t *testing.T) {
	want := drain(t, capture.NewStrace(strings.NewReader(straceSample)))
	require.Len(t, want, 5, "the sample's segments: %q", want)

	t.Run("cut at every byte", func(t *testing.T) {
		for i := range len(straceSample) {
			got := drain(t, capture.NewStrace(strings.NewReader(straceSample[:i])))
			assert.LessOrEqual(t, dataBytes(got), i, "cut at %d", i)
		}
	})
	t.Run("readers that return little at a time", func(t *testing.T) {
		for name, r := range map[string]io.Reader{
			"one byte": iotest.OneByteReader(strings.NewReader(straceSample)),
			"half":     iotest.HalfReader(strings.NewReader(straceSample)),
			"data+EOF": iotest.DataErrReader(strings.NewReader(straceSample)),
		} {
			assert.Equal(t, want, drain(t, capture.NewStrace(r)), name)
		}
	})
	t.Run("a read error ends the source with it", func(t *testing.T) {
		got := drain(t, capture.NewStrace(iotest.TimeoutReader(strings.NewReader(straceSample))))
		require.NotEmpty(t, got)
		assert.Equal(t, "fatal: "+iotest.ErrTimeout.Error(), got[len(got)-1])
		boom := errors.New("boom")
		assert.Equal(t, []string{"fatal: boom"}, drain(t, capture.NewStrace(iotest.ErrReader(boom))))
	})
	t.Run("huge lengths and garbage", func(t *testing.T) {
		log := "10  connect(3, {}, 1) = 0\n" +
			"10  read(3, \"\\x01\"..., 4096) = 9223372036854775807\n" +
			"10  write(3, \"\\x01\", 1) = 99999999999999999999999\n" +
			"10  write(3, \"" + strings.Repeat("\\", 1000) + "\n" +
			strings.Repeat("(", 100000) + "\n" +
			"10  write(3, " + strings.Repeat("[", 100) + "\"\\x01\", 1) = 1\n" +
			"[pid 99999999999999999] write(3, \"\\x01\", 1) = 1\n" +
			strings.Repeat("\x00\xff", 5000) + "\n"
		got := drain(t, capture.NewStrace(strings.NewReader(log)))
		assert.Contains(t, got, "pid 10 fd 3|response|01|start|missing=9223372036854775806")
		assert.LessOrEqual(t, dataBytes(got), len(log))
	})
}

// dataBytes counts the data bytes of rendered segments.
func dataBytes(items []string) int {
	n := 0
	for _, it := range items {
		if strings.HasPrefix(it, "error") || strings.HasPrefix(it, "fatal") {
			continue
		}
		n += len(strings.Split(it, "|")[2]) / 2
	}
	return n
}

func ExampleNewStrace() {
	// strace -f -xx -yy -s 4 -o client.strace CLIENT: -s 4 cut the 36-byte request.
	log := `4242  connect(3<UNIX-STREAM:[100]>, {sa_family=AF_UNIX, sun_path="/run/parsec/parsec.sock"}, 25) = 0
4242  write(3<UNIX-STREAM:[100->101]>, "\x10\xa7\xc0\x5e"..., 36) = 36
4242  read(3<UNIX-STREAM:[100->101]>, "\x10\xa7\xc0\x5e", 4096) = 4
4242  close(3<UNIX-STREAM:[100->101]>) = 0
`
	src := capture.NewStrace(strings.NewReader(log))
	for {
		seg, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err) // a line it could not read; the rest is read
			continue
		}
		fmt.Printf("%s %s: % x", seg.Conn, seg.Dir, seg.Data)
		if seg.Missing > 0 {
			fmt.Printf(" (and %d bytes not in the log)", seg.Missing)
		}
		if seg.End {
			fmt.Print(" end")
		}
		fmt.Println()
	}
	// Output:
	// pid 4242 fd 3 request: 10 a7 c0 5e (and 32 bytes not in the log)
	// pid 4242 fd 3 response: 10 a7 c0 5e
	// pid 4242 fd 3 request:  end
	// pid 4242 fd 3 response:  end
}
