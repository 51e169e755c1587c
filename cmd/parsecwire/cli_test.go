package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
	"github.com/parsecwire/parsecwire/wire/capture"
)

type result struct {
	code           int
	stdout, stderr string
}

func cli(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return result{code, out.String(), errb.String()}
}

// jsonLines parses -json output into one map per line.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		out = append(out, m)
	}
	return out
}

func frameOf(t *testing.T, h header.Header, body []byte) []byte {
	t.Helper()
	b, err := wire.AppendResponse(nil, h, body)
	require.NoError(t, err)
	return b
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

var (
	ping      = header.Header{Opcode: 1}
	notFound  = header.Header{Provider: 1, Session: 9, Opcode: 12, Status: status.PsaErrorDoesNotExist}
	adminFail = header.Header{Opcode: 28, Status: status.AdminOperation}
)

func TestSampleFiles(t *testing.T) {
	r := cli(t, "", "decode", "../../testdata/responses.hex")
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "status 1140 PsaErrorDoesNotExist")
	assert.Contains(t, r.stdout, "opcode 28 DeleteClient")
	assert.Contains(t, r.stdout, "provider 0 Core")
	assert.Contains(t, r.stdout, "9 frames: 9 valid, 0 invalid")

	r = cli(t, "", "validate", "../../testdata/broken.hex")
	assert.Equal(t, exitInvalid, r.code)
	assert.Contains(t, r.stdout, "VersionTooBig")
	assert.NotContains(t, r.stdout, ": ok\n", "validate prints only findings")

	r = cli(t, "", "decode", "../../testdata/capture.bin")
	assert.Equal(t, exitOK, r.code)
	assert.Contains(t, r.stdout, "9 frames: 9 valid")

	r = cli(t, "", "decode", "../../testdata/mock")
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "request frame 0")
	assert.Contains(t, r.stdout, "8 frames: 8 valid")
}

func TestFormats(t *testing.T) {
	a, b := frameOf(t, ping, []byte{8, 1}), frameOf(t, notFound, nil)
	stream := append(append([]byte{}, a...), b...)
	hexText := "# two frames\n" + hex.EncodeToString(a) + "\n\n" + strings.ToUpper(hex.EncodeToString(b)) + "  # trailing comment\n" +
		hex.EncodeToString(stream) + "\n"
	spaced := "10 a7 c0 5e 1e 00 01 00\t" + hex.EncodeToString(a[8:]) + "\n"
	b64 := base64.StdEncoding.EncodeToString(a) + "\n# c\n" + base64.RawURLEncoding.EncodeToString(stream) + "\n"
	mock := "spec:\n  name: x\ntest_data:\n  request: " + base64.StdEncoding.EncodeToString(mustRequest(t, notFound)) +
		"\n  response: " + base64.StdEncoding.EncodeToString(b) + "\n"
	oldMock := "test_data:\n  result: " + base64.StdEncoding.EncodeToString(b) + "\n"
	cases := []struct {
		name, file string
		data       []byte
		format     string
		frames     int
	}{
		{"hex by extension", "f.hex", []byte(hexText), "auto", 4},
		{"hex with white space", "f.hex", []byte(spaced), "auto", 1},
		{"hex as a C array", "f.hex", []byte(cArray(a) + "\n"), "auto", 1},
		{"hex as a C array, by content", "dump", []byte(cArray(a) + "\n"), "auto", 1},
		{"hex with colons", "f", []byte(colons(b) + "\n"), "auto", 1},
		{"hex by content", "capture", []byte(hexText), "auto", 4},
		{"hex forced", "f.dat", []byte(hexText), "hex", 4},
		{"base64 by extension", "f.b64", []byte(b64), "auto", 3},
		{"base64 by content", "f", []byte(b64), "auto", 3},
		{"raw by extension", "f.bin", stream, "auto", 2},
		{"raw by magic", "f", stream, "auto", 2},
		{"mock by extension", "case.test.yaml", []byte(mock), "auto", 2},
		{"mock by content", "case", []byte(mock), "auto", 2},
		{"mock, older result key", "old.yaml", []byte(oldMock), "mock", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, tc.file, tc.data)
			r := cli(t, "", "decode", "-json", "-format", tc.format, p)
			require.Equal(t, exitOK, r.code, r.stderr+r.stdout)
			recs := jsonLines(t, r.stdout)
			assert.Len(t, recs, tc.frames)
			for _, rec := range recs {
				assert.Equal(t, p, rec["source"])
				assert.Equal(t, true, rec["ok"])
			}
		})
	}
	r := cli(t, string(stream), "decode", "-json", "-format", "raw")
	require.Equal(t, exitOK, r.code)
	recs := jsonLines(t, r.stdout)
	require.Len(t, recs, 2)
	assert.Equal(t, "-", recs[0]["source"], "stdin is named -")
	assert.Equal(t, float64(len(a)), recs[1]["offset"])
	assert.Equal(t, float64(1), recs[1]["index"])
}

// mustRequest returns the request that h, a response, answers.
func mustRequest(t *testing.T, h header.Header) []byte {
	b, err := wire.AppendRequest(nil, header.Header{Provider: h.Provider, Session: h.Session, Opcode: h.Opcode}, nil, nil)
	require.NoError(t, err)
	return b
}

func TestExitStatuses(t *testing.T) {
	good := writeFile(t, "g.hex", []byte(hex.EncodeToString(frameOf(t, ping, nil))+"\n"))
	bad := writeFile(t, "b.hex", []byte(hex.EncodeToString(frameOf(t, ping, nil)[:20])+"\n"))
	garbled := writeFile(t, "x.hex", []byte("zz not hex\n"))
	assert.Equal(t, exitOK, cli(t, "", "decode", good).code)
	assert.Equal(t, exitOK, cli(t, "", "validate", good).code)
	assert.Equal(t, exitInvalid, cli(t, "", "decode", good, bad).code)
	assert.Equal(t, exitInvalid, cli(t, "", "validate", bad).code)
	r := cli(t, "", "decode", filepath.Join(t.TempDir(), "missing.hex"))
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "missing.hex")
	r = cli(t, "", "decode", "-format", "hex", garbled)
	assert.Equal(t, exitUsage, r.code, "unreadable input")
	assert.Contains(t, r.stderr, "x.hex:1")
	assert.Equal(t, exitUsage, cli(t, "", "decode", "-nosuchflag").code)
	assert.Equal(t, exitUsage, cli(t, "", "decode", "-format", "xml", good).code)
	assert.Equal(t, exitUsage, cli(t, "").code)
	assert.Equal(t, exitUsage, cli(t, "", "frobnicate").code)
	assert.Equal(t, exitOK, cli(t, "", "-h").code)
}

func TestHelp(t *testing.T) {
	for _, c := range []string{"decode", "validate", "status", "serve", "probe", "tap"} {
		r := cli(t, "", c, "-h")
		assert.Equal(t, exitOK, r.code, c)
		assert.Contains(t, r.stdout, "Usage: parsecwire "+c, c)
		assert.Contains(t, r.stdout, "Examples:", c)
	}
}

func TestJSONContract(t *testing.T) {
	unknown := frameOf(t, ping, nil)
	unknown[32], unknown[33] = 0x78, 0x04
	line := hex.EncodeToString(frameOf(t, notFound, []byte{1, 2})) + hex.EncodeToString(unknown) + hex.EncodeToString(frameOf(t, ping, nil)[:30])
	p := writeFile(t, "c.hex", []byte(line+"\n"))
	r := cli(t, "", "decode", "-json", p)
	require.Equal(t, exitInvalid, r.code)
	recs := jsonLines(t, r.stdout)
	require.Len(t, recs, 3)

	ok := recs[0]
	assert.Equal(t, p, ok["source"])
	assert.Equal(t, float64(0), ok["index"])
	assert.Equal(t, float64(0), ok["offset"])
	assert.Equal(t, true, ok["ok"])
	assert.Equal(t, float64(1), ok["provider"])
	assert.Equal(t, "9", ok["session"], "session is a decimal string")
	assert.Equal(t, float64(0), ok["content_type"])
	assert.Equal(t, float64(12), ok["opcode"])
	assert.Equal(t, "PsaExportKey", ok["opcode_name"])
	assert.Equal(t, float64(1140), ok["status"])
	assert.Equal(t, "PsaErrorDoesNotExist", ok["status_name"])
	assert.Equal(t, float64(2), ok["content_length"])
	assert.NotContains(t, ok, "error")
	assert.NotContains(t, ok, "code")

	bad := recs[1]
	assert.Equal(t, false, bad["ok"])
	assert.Equal(t, float64(38), bad["offset"])
	assert.Equal(t, float64(16), bad["code"])
	assert.Equal(t, "InvalidEncoding", bad["code_name"])
	assert.Contains(t, bad["error"], "1144")
	assert.Equal(t, float64(1144), bad["status"], "the header decoded, so its fields are there")
	assert.Equal(t, "", bad["status_name"])
	assert.Equal(t, float64(38+32), bad["fault_offset"])

	cut := recs[2]
	assert.Equal(t, float64(15), cut["code"], "a truncated frame is ConnectionError")
	assert.Equal(t, "ConnectionError", cut["code_name"])
	assert.NotContains(t, cut, "status", "no header decoded")
	assert.NotContains(t, cut, "opcode_name")

	// Large session values survive as decimal strings.
	big := frameOf(t, header.Header{Opcode: 1, Session: 1<<64 - 1}, nil)
	p = writeFile(t, "s.hex", []byte(hex.EncodeToString(big)+"\n"))
	recs = jsonLines(t, cli(t, "", "decode", "-json", p).stdout)
	assert.Equal(t, "18446744073709551615", recs[0]["session"])
	assert.Equal(t, "", jsonLines(t, cli(t, "", "decode", "-json", writeFile(t, "o.hex", []byte(hex.EncodeToString(frameOf(t, header.Header{Opcode: 999}, nil))+"\n"))).stdout)[0]["opcode_name"])
}

func TestResync(t *testing.T) {
	a, b := frameOf(t, ping, []byte{8, 1}), frameOf(t, notFound, nil)
	t.Run("after a wrong magic number", func(t *testing.T) {
		garbage := append([]byte{0xde, 0xad, 0xbe, 0xef, 0, 0, 0}, b...)
		stream := append(append(garbage, a...), b...)
		recs := jsonLines(t, cli(t, "", "decode", "-json", writeFile(t, "r.bin", stream)).stdout)
		require.Len(t, recs, 4)
		assert.Equal(t, false, recs[0]["ok"])
		assert.Equal(t, "InvalidHeader", recs[0]["code_name"])
		assert.Equal(t, float64(7), recs[0]["skipped"])
		for i, off := range []int{7, 7 + len(b), 7 + len(b) + len(a)} {
			assert.Equal(t, true, recs[i+1]["ok"], "frame %d", i+1)
			assert.Equal(t, float64(off), recs[i+1]["offset"])
		}
	})
	t.Run("after a wrong header size", func(t *testing.T) {
		bad := append([]byte{}, a...)
		bad[4] = 200 // 200 bytes announced: they swallow the next frame
		stream := append(append(bad, b...), a...)
		recs := jsonLines(t, cli(t, "", "decode", "-json", writeFile(t, "h.bin", stream)).stdout)
		require.Len(t, recs, 3)
		assert.Equal(t, "ConnectionError", recs[0]["code_name"], "as the reference: the announced bytes are not all there")
		assert.Equal(t, "header size", recs[0]["field"])
		assert.Equal(t, float64(len(a)), recs[0]["skipped"], "resumes at the next magic number, not after 206 bytes")
		assert.Equal(t, true, recs[1]["ok"])
		assert.Equal(t, float64(1140), recs[1]["status"])
	})
	t.Run("after an unknown status", func(t *testing.T) {
		bad := frameOf(t, ping, []byte{0x10, 0xa7, 0xc0, 0x5e}) // a magic number inside the body
		bad[32], bad[33] = 23, 0
		stream := append(bad, b...)
		recs := jsonLines(t, cli(t, "", "decode", "-json", writeFile(t, "u.bin", stream)).stdout)
		require.Len(t, recs, 2, "the frame is skipped by its lengths, not by scanning")
		assert.Equal(t, "InvalidEncoding", recs[0]["code_name"])
		assert.Equal(t, true, recs[1]["ok"])
		assert.Equal(t, float64(len(bad)), recs[1]["offset"])
	})
	t.Run("text output reports the skip", func(t *testing.T) {
		stream := append([]byte{1, 2, 3, 4, 5}, a...)
		r := cli(t, "", "decode", writeFile(t, "t.bin", stream))
		assert.Contains(t, r.stdout, "skipped 5 bytes to the next magic number, at offset 5")
		assert.Contains(t, r.stdout, "first bad byte: offset 0 of the stream (magic)")
	})
}

func TestSeedFlag(t *testing.T) {
	p := writeFile(t, "a.hex", []byte(hex.EncodeToString(frameOf(t, adminFail, nil))+"\n"))
	assert.Equal(t, exitOK, cli(t, "", "decode", p).code, "AdminOperation is a current code")
	r := cli(t, "", "validate", "-json", "-seed", p)
	assert.Equal(t, exitInvalid, r.code)
	recs := jsonLines(t, r.stdout)
	require.Len(t, recs, 2, "one finding and the summary")
	assert.Equal(t, float64(16), recs[0]["code"])
	assert.Equal(t, true, recs[1]["summary"])
	assert.Equal(t, float64(1), recs[1]["invalid"])
}

func TestStrictFlag(t *testing.T) {
	cases := []struct {
		h    header.Header
		code int
	}{
		{header.Header{Provider: 6, ContentType: 1, Opcode: 999}, 6},
		{header.Header{ContentType: 1, Opcode: 999}, 2},
		{header.Header{Opcode: 999}, 9},
	}
	for _, tc := range cases {
		p := writeFile(t, "s.hex", []byte(hex.EncodeToString(frameOf(t, tc.h, []byte{1}))+"\n"))
		assert.Equal(t, exitOK, cli(t, "", "decode", p).code)
		r := cli(t, "", "decode", "-json", "-strict", p)
		assert.Equal(t, exitInvalid, r.code)
		assert.Equal(t, float64(tc.code), jsonLines(t, r.stdout)[0]["code"])
	}
}

func TestLimitFlag(t *testing.T) {
	// A Ping result of 100 bytes: version 1.0 and an unknown field, which readers skip.
	big, small := frameOf(t, ping, append([]byte{0x08, 0x01, 0x7a, 96}, bytes.Repeat([]byte{7}, 96)...)), frameOf(t, notFound, nil)
	p := writeFile(t, "l.bin", append(big, small...))
	assert.Equal(t, exitOK, cli(t, "", "decode", p).code)
	r := cli(t, "", "decode", "-json", "-limit", "64", p)
	assert.Equal(t, exitInvalid, r.code)
	recs := jsonLines(t, r.stdout)
	require.Len(t, recs, 2)
	assert.Equal(t, float64(20), recs[0]["code"])
	assert.Equal(t, float64(100), recs[0]["content_length"])
	assert.Equal(t, true, recs[1]["ok"], "the refused frame is skipped by its length")
	assert.Equal(t, float64(len(big)), recs[1]["offset"])
	assert.Equal(t, exitOK, cli(t, "", "decode", "-limit", "100", p).code)
}

func TestStatusCommand(t *testing.T) {
	r := cli(t, "", "status")
	assert.Equal(t, exitOK, r.code)
	assert.Len(t, strings.Split(strings.TrimSpace(r.stdout), "\n"), 44)
	r = cli(t, "", "status", "-seed")
	assert.Len(t, strings.Split(strings.TrimSpace(r.stdout), "\n"), 40)

	r = cli(t, "", "status", "-json", "1140", "WireProtocolVersionNotSupported", "0x11", "psaerrorinsufficientdata")
	require.Equal(t, exitOK, r.code, r.stderr)
	recs := jsonLines(t, r.stdout)
	require.Len(t, recs, 4)
	assert.Equal(t, "PsaErrorDoesNotExist", recs[0]["name"])
	assert.Equal(t, float64(4), recs[1]["code"])
	assert.Equal(t, "VersionTooBig", recs[1]["name"])
	assert.Equal(t, "WireProtocolVersionNotSupported", recs[1]["alias"])
	assert.Equal(t, "InvalidHeader", recs[2]["name"])
	assert.Equal(t, "psa", recs[3]["class"])

	for _, arg := range []string{"1144", "NoSuchStatus", "70000"} {
		r = cli(t, "", "status", arg)
		assert.Equal(t, exitInvalid, r.code, arg)
		assert.Contains(t, r.stderr, "InvalidEncoding", arg)
	}
	r = cli(t, "", "status", "-seed", "AdminOperation")
	assert.Equal(t, exitInvalid, r.code, "a later code is not in the seed table")
	assert.Contains(t, r.stderr, "InvalidEncoding")
	r = cli(t, "", "status", "17")
	assert.Contains(t, r.stdout, "InvalidHeader")
	assert.Contains(t, r.stdout, "constant fields in header are invalid")
}

func TestRequestsFlag(t *testing.T) {
	req, err := wire.AppendRequest(nil, header.Header{Opcode: 9, AuthType: header.AuthDirect}, []byte{8, 1}, []byte("app"))
	require.NoError(t, err)
	req[32] = 0xff // a request's status is not checked
	p := writeFile(t, "r.hex", []byte(hex.EncodeToString(req)+hex.EncodeToString(req)+"\n"))
	r := cli(t, "", "decode", "-json", "-requests", p)
	require.Equal(t, exitOK, r.code, r.stdout)
	recs := jsonLines(t, r.stdout)
	require.Len(t, recs, 2, "the auth bytes are part of each frame")
	assert.Equal(t, "request", recs[1]["kind"])
	assert.Equal(t, float64(3), recs[1]["auth_length"])
	assert.Equal(t, float64(len(req)), recs[1]["offset"])
	assert.Equal(t, exitInvalid, cli(t, "", "decode", p).code, "read as responses, the status 0xff is unknown")
}

func cArray(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("0x%02X", c)
	}
	return strings.Join(parts, ", ")
}

func colons(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02x", c)
	}
	return strings.Join(parts, ":")
}

func TestFlagsAfterNames(t *testing.T) {
	p := writeFile(t, "a.hex", []byte(hex.EncodeToString(frameOf(t, ping, nil))+"\n"))
	r := cli(t, "", "decode", p, "-json")
	require.Equal(t, exitOK, r.code, r.stderr)
	recs := jsonLines(t, r.stdout)
	require.Len(t, recs, 1, "-json is a flag, not a file")
	assert.Equal(t, p, recs[0]["source"])
	r = cli(t, "", "validate", p, "-format", "hex", "-json", p)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, float64(2), jsonLines(t, r.stdout)[0]["frames"])
	r = cli(t, "", "decode", "-json", "--", p)
	assert.Equal(t, exitOK, r.code, "-- ends the flags")
}

func TestHelpOnce(t *testing.T) {
	for _, c := range []string{"decode", "validate", "status", "serve", "probe", "tap"} {
		r := cli(t, "", c, "-h")
		assert.Equal(t, 1, strings.Count(r.stdout, "Usage: parsecwire "+c), c)
		assert.Empty(t, r.stderr, c)
		r = cli(t, "", c, "-nosuchflag")
		assert.Equal(t, exitUsage, r.code, c)
		assert.Equal(t, 1, strings.Count(r.stderr, "Usage: parsecwire "+c), c)
		assert.Contains(t, r.stderr, "-nosuchflag")
	}
	r := cli(t, "", "decode", "-h")
	for _, f := range []string{"xxd", "hexdump", "od", "strace", "socat", "pcapng", "mock"} {
		assert.Contains(t, r.stdout, "\n  "+f+" ", "the formats are listed")
	}
}

func TestVersion(t *testing.T) {
	r := cli(t, "", "version")
	assert.Equal(t, exitOK, r.code)
	assert.True(t, strings.HasPrefix(r.stdout, "parsecwire "), r.stdout)
	assert.Contains(t, r.stdout, "go1.")
	assert.Contains(t, cli(t, "", "-h").stdout, "version")
}

func TestStatusNumbersAndPSANames(t *testing.T) {
	for arg, want := range map[string]float64{"017": 17, "17": 17, "0x11": 17, "0X474": 1140,
		"PSA_ERROR_DOES_NOT_EXIST": 1140, "psa_error_insufficient_data": 1143, "PSA_ERROR_CORRUPTION_DETECTED": 1151} {
		r := cli(t, "", "status", "-json", arg)
		require.Equal(t, exitOK, r.code, arg+": "+r.stderr)
		assert.Equal(t, want, jsonLines(t, r.stdout)[0]["code"], arg)
	}
	for _, arg := range []string{"0o21", "0b10001", "+17", "-1", "0x", "PSA_ERROR_NO_SUCH_THING"} {
		assert.Equal(t, exitInvalid, cli(t, "", "status", "--", arg).code, arg)
	}
	// Every PSA code has a C spelling, derived from its name, that looks it back up.
	n := 0
	for _, c := range status.All() {
		if c.Class() != status.ClassPSA {
			continue
		}
		n++
		name := cName(c)
		assert.True(t, strings.HasPrefix(name, "PSA_ERROR_"), name)
		got, ok := lookupName(name)
		assert.True(t, ok, name)
		assert.Equal(t, c, got, name)
		rec := jsonLines(t, cli(t, "", "status", "-json", name).stdout)[0]
		assert.Equal(t, name, rec["c_name"])
	}
	assert.Equal(t, 21, n)
	assert.Equal(t, "PSA_ERROR_DOES_NOT_EXIST", cSpelling("PsaErrorDoesNotExist"))
}

func TestInputErrorsAreFindings(t *testing.T) {
	a := hex.EncodeToString(frameOf(t, ping, nil))
	p := writeFile(t, "bad.hex", []byte(a+"\nzz not hex\n"+a+"\n"))
	r := cli(t, "", "decode", "-json", p)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "bad.hex:2: hex: invalid character 'z'")
	recs := jsonLines(t, r.stdout)
	require.Len(t, recs, 2, "the line after the bad one is read")
	assert.Equal(t, float64(3), recs[1]["line"])
	assert.Equal(t, float64(1), recs[1]["index"], "the frame number within the source")

	r = cli(t, "", "decode", writeFile(t, "notes", []byte("Some notes about a capture.\n")))
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "unrecognised format")
	assert.Contains(t, r.stderr, "-format")

	r = cli(t, "", "validate", writeFile(t, "empty.bin", nil))
	assert.Equal(t, exitInvalid, r.code)
	assert.Contains(t, r.stderr, "no frame found")
	r = cli(t, "", "validate", "-format", "raw")
	assert.Equal(t, exitInvalid, r.code, "empty stdin")
	assert.Contains(t, r.stderr, "no frame found")

	// A line of strace that is not one the reader understands is reported with its number,
	// and the rest is read.
	r = cli(t, "", "decode", writeFile(t, "app.strace", []byte("1 write(3, \"\\x10\", 1) = 1\n1 write(3, \"\\x1\n")))
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "app.strace:2: strace:")
}

func TestFolders(t *testing.T) {
	dir := t.TempDir()
	mock, err := os.ReadFile("../../testdata/mock/ping.test.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ping.test.yaml"), mock, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README.md"), []byte("# Cases\n\nPing the service.\n"), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "more"), 0o755))
	for _, format := range []string{"auto", "mock"} {
		r := cli(t, "", "validate", "-format", format, dir)
		assert.Equal(t, exitOK, r.code, format+": "+r.stderr)
		assert.Contains(t, r.stdout, "2 frames: 2 valid", format)
		assert.Contains(t, r.stderr, "README.md: not a", "the README is not read as a case")
		assert.Contains(t, r.stderr, "more: a folder inside a folder")
	}
	// A file that cannot be read (a link to nothing: root reads anything else) is reported,
	// and the rest of the folder read.
	require.NoError(t, os.Symlink(filepath.Join(dir, "gone"), filepath.Join(dir, "broken.bin")))
	r := cli(t, "", "validate", dir)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "broken.bin")
	assert.Contains(t, r.stdout, "2 frames: 2 valid")
}

func TestRequestsAndExchanges(t *testing.T) {
	r := cli(t, "", "decode", "../../testdata/mock/admin_error.test.yaml")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "    body 0a03626f62\n")
	assert.Contains(t, r.stdout, "    auth 617070\n", "a request's auth bytes are not its body")
	assert.Contains(t, r.stdout, "(exchange 1)")
	assert.Contains(t, r.stdout, "2 frames: 2 valid, 0 invalid\n  valid by status:   AdminOperation 1\n",
		"the request's zero status is not counted as Success")

	// A response that does not echo its request is a finding.
	req, err := wire.AppendRequest(nil, header.Header{Opcode: 9, Session: 3}, nil, nil)
	require.NoError(t, err)
	resp := frameOf(t, header.Header{Opcode: 8, Session: 3}, nil)
	y := "test_data:\n  request: " + base64.StdEncoding.EncodeToString(req) + "\n  response: " + base64.StdEncoding.EncodeToString(resp) + "\n"
	p := writeFile(t, "echo.test.yaml", []byte(y))
	r = cli(t, "", "validate", p)
	assert.Equal(t, exitInvalid, r.code)
	assert.Contains(t, r.stdout, "NOT ECHOED: opcode 8 (request 9)")
	assert.Contains(t, r.stdout, "1 paired, 1 not echoed")
	recs := jsonLines(t, cli(t, "", "validate", "-json", p).stdout)
	require.Len(t, recs, 2)
	assert.Equal(t, float64(1), recs[0]["exchange"])
	assert.Contains(t, recs[0]["echo"], "opcode 8")
	assert.Equal(t, float64(1), recs[1]["not_echoed"])
}

func TestDumpSamples(t *testing.T) {
	files, err := filepath.Glob("../../testdata/dumps/frames*")
	require.NoError(t, err)
	require.Len(t, files, 8)
	for _, f := range files {
		r := cli(t, "", "validate", f)
		assert.Equal(t, exitOK, r.code, f+": "+r.stderr)
		assert.Contains(t, r.stdout, "10 frames: 10 valid, 0 invalid", f)
	}
	r := cli(t, "", "decode", "-json", "../../testdata/dumps/frames.xxd")
	recs := jsonLines(t, r.stdout)
	require.Len(t, recs, 10)
	assert.Equal(t, float64(36), recs[1]["offset"], "offsets in the dumped stream")
	assert.Equal(t, float64(3), recs[1]["line"], "the line of the frame's first byte")
}

func TestProgress(t *testing.T) {
	assert.False(t, isTerminal(&bytes.Buffer{}))
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer null.Close()
	assert.False(t, isTerminal(null), "/dev/null is a character device, not a terminal")

	line := progressLine(50e6, 1000, 2*time.Second)
	assert.Contains(t, line, "50.0 MB, 1000 frames, 25.0 MB/s, 500 frames/s")
	var buf syncBuffer
	var p capture.Progress
	p.Bytes.Store(1e6)
	pw := &progressWriter{w: &buf}
	stop := startProgress(pw, &p, 10*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	fmt.Fprintln(pw, "parsecwire: x.hex:3: hex: bad")
	assert.Contains(t, buf.String(), "\r\033[Kparsecwire: x.hex:3", "a message erases the progress line first")
	time.Sleep(30 * time.Millisecond)
	stop()
	stop()
	assert.Contains(t, buf.String(), "1.0 MB")
	assert.True(t, strings.HasSuffix(buf.String(), "\r\033[K"), "the line is erased at the end")

	// Piped stderr: no progress whatever the run's length.
	r := cli(t, "", "validate", "../../testdata/capture.bin")
	assert.NotContains(t, r.stderr, "MB/s")
}
