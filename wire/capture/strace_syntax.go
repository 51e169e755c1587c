package capture

import (
	"strconv"
	"strings"
)

// This file holds the pieces of strace's output syntax: quoted strings with their escapes,
// argument lists, return values and fd decorations.

// straceUnquote appends to dst the bytes of the quoted string at the start of s (strace's
// escapes: \xNN as written by -x and -xx, octal \NNN, and \n, \t, \r, \v, \f, \\, \")
// and returns the rest of s after the closing quote. cut reports strace's mark of a string
// shortened by -s: "..." right after the closing quote.
func straceUnquote(dst []byte, s string) (out []byte, rest string, cut bool, ok bool) {
	if len(s) == 0 || s[0] != '"' {
		return dst, s, false, false
	}
	i := 1
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			rest = s[i+1:]
			if strings.HasPrefix(rest, "...") {
				return dst, rest[3:], true, true
			}
			return dst, rest, false, true
		case c != '\\':
			dst = append(dst, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return dst, "", false, false
		}
		e := s[i+1]
		i += 2
		switch e {
		case 'x':
			if i+2 > len(s) {
				return dst, "", false, false
			}
			v, err := strconv.ParseUint(s[i:i+2], 16, 8)
			if err != nil {
				return dst, "", false, false
			}
			dst = append(dst, byte(v))
			i += 2
		case 'n':
			dst = append(dst, '\n')
		case 't':
			dst = append(dst, '\t')
		case 'r':
			dst = append(dst, '\r')
		case 'v':
			dst = append(dst, '\v')
		case 'f':
			dst = append(dst, '\f')
		case 'a':
			dst = append(dst, '\a')
		case 'b':
			dst = append(dst, '\b')
		case '\\', '"', '\'':
			dst = append(dst, e)
		default:
			if e < '0' || e > '7' {
				return dst, "", false, false
			}
			v := uint(e - '0')
			for k := 0; k < 2 && i < len(s) && s[i] >= '0' && s[i] <= '7'; k++ {
				v = v*8 + uint(s[i]-'0')
				i++
			}
			if v > 0xff {
				return dst, "", false, false
			}
			dst = append(dst, byte(v))
		}
	}
	return dst, "", false, false
}

// straceArgs splits the argument list of a call, s being the text after the opening
// parenthesis, at its top-level commas, and returns the text after the closing parenthesis.
// Strings, brackets, braces and fd decorations (3<...>) nest.
func straceArgs(s string, args []string) ([]string, string, bool) {
	var stack [64]byte
	depth := 0
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			j, ok := straceSkipString(s, i)
			if !ok {
				return args, "", false
			}
			i = j - 1
		case '(', '[', '{':
			if depth == len(stack) {
				return args, "", false
			}
			stack[depth] = c
			depth++
		case '<':
			// An fd decoration opens after the fd's digits: 3<socket:[12345]>.
			if i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
				if depth == len(stack) {
					return args, "", false
				}
				stack[depth] = c
				depth++
			}
		case '>':
			if depth > 0 && stack[depth-1] == '<' {
				depth--
			}
		case ']', '}':
			if depth > 0 && stack[depth-1] == straceOpener(c) {
				depth--
			}
		case ')':
			if depth == 0 {
				if a := strings.TrimSpace(s[start:i]); a != "" || len(args) > 0 {
					args = append(args, a)
				}
				return args, s[i+1:], true
			}
			if stack[depth-1] == '(' {
				depth--
			}
		case ',':
			if depth == 0 {
				args = append(args, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return args, "", false
}

func straceOpener(c byte) byte {
	if c == ']' {
		return '['
	}
	return '{'
}

// straceSkipString returns the index after the quoted string that starts at s[i].
func straceSkipString(s string, i int) (int, bool) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// straceReturn reads the return value after a call's closing parenthesis: " = 38",
// " = -1 EAGAIN (...)", " = 6<UNIX-STREAM:[52810]>", " = 0 <0.000024>". ok is false for
// "= ?" and for anything that is not a return value.
func straceReturn(s string) (ret int64, deco string, ok bool) {
	s = strings.TrimLeft(s, " \t")
	if !strings.HasPrefix(s, "=") {
		return 0, "", false
	}
	s = strings.TrimLeft(s[1:], " \t")
	end := strings.IndexAny(s, " \t")
	if end < 0 {
		end = len(s)
	}
	tok := s[:end]
	fd, deco, ok := straceFD(tok)
	return fd, deco, ok
}

// straceFD reads an fd argument or return value with its optional decoration:
// "3", "3<socket:[12345]>", "-1".
func straceFD(tok string) (int64, string, bool) {
	num, deco := tok, ""
	if i := strings.IndexByte(tok, '<'); i >= 0 {
		if !strings.HasSuffix(tok, ">") {
			return 0, "", false
		}
		num, deco = tok[:i], tok[i+1:len(tok)-1]
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil {
		return 0, "", false
	}
	return v, deco, true
}

// fdKind is what an fd decoration says about the file.
type fdKind uint8

const (
	fdUnknown fdKind = iota // no decoration
	fdStream                // a stream socket (Unix or TCP), or a socket of unknown type
	fdOther                 // a file, pipe, event fd or a socket that cannot carry Parsec
)

// straceDecoration classifies an fd decoration written by -y or -yy. key identifies the
// socket (its inode when the decoration shows one), and bound says that the socket's own
// address is a path: a Unix socket that a service accepted on its listening path.
func straceDecoration(deco string) (kind fdKind, key string, bound bool) {
	if deco == "" {
		return fdUnknown, "", false
	}
	// -xx escapes file paths as well: decode them before looking at them.
	if strings.Contains(deco, `\x`) {
		deco = straceUnhex(deco)
	}
	open := strings.Index(deco, ":[")
	if open <= 0 || !strings.HasSuffix(deco, "]") {
		return fdOther, "", false
	}
	proto := deco[:open]
	inner := deco[open+2 : len(deco)-1]
	switch proto {
	case "socket", "UNIX", "UNIX-STREAM", "TCP", "TCPv6":
	default:
		// pipe:[...], anon_inode:[...], UDP, NETLINK, UNIX-DGRAM...: not a Parsec transport.
		return fdOther, "", false
	}
	n := 0
	for n < len(inner) && inner[n] >= '0' && inner[n] <= '9' {
		n++
	}
	if n > 0 && (n == len(inner) || inner[n] == '-' || inner[n] == ',') {
		key = "ino:" + inner[:n]
	} else {
		key = proto + ":" + inner
	}
	// UNIX-STREAM:[52810->52809,"/run/parsec/parsec.sock"]: the path is the socket's own
	// name, which an accepted socket inherits from the listener; a client's socket has none.
	bound = strings.HasPrefix(proto, "UNIX") && strings.Contains(inner, `"`)
	return fdStream, key, bound
}

// straceUnhex decodes the \xNN escapes of an fd decoration, leaving everything else as it is.
func straceUnhex(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] == 'x' {
			if v, err := strconv.ParseUint(s[i+2:i+4], 16, 8); err == nil {
				b = append(b, byte(v))
				i += 3
				continue
			}
		}
		b = append(b, s[i])
	}
	return string(b)
}
