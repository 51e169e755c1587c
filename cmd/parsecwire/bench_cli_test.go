package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/operation"
	"github.com/parsecwire/parsecwire/wire"
)

// BenchmarkCLI runs validate and decode -json, printing to io.Discard, over 8 MiB raw files
// of the speed goals' shapes. testdata/bench/run.sh measures the built binary on real files
// beside cat; this benchmark is for profiling (-cpuprofile).
func BenchmarkCLI(b *testing.B) {
	ok, _ := wire.AppendResponse(nil, header.Header{Provider: 1, Session: 7, Opcode: 12, Status: 1140}, nil)
	// A PsaGenerateRandom answer of 64 KiB: a valid body, which decode decodes and prints.
	random, _ := operation.Encode(13, operation.Response, operation.Fields{{Name: "random_bytes", Value: make([]byte, 64<<10-4)}})
	big, _ := wire.AppendResponse(nil, header.Header{Provider: 1, Session: 7, Opcode: 13}, random)
	hs := header.Header{Opcode: 1}.AppendRaw(nil)
	hs[4], hs[5] = 0xff, 0xff
	dir := b.TempDir()
	inputs := []struct {
		name string
		data []byte
	}{
		{"header-only", bytes.Repeat(ok, (8<<20)/len(ok))},
		{"64KiB", bytes.Repeat(big, 128)},
		{"magic", bytes.Repeat([]byte{0x10, 0xa7, 0xc0, 0x5e}, 2<<20)},
		{"hs65535", bytes.Repeat(hs, (8<<20)/len(hs))},
	}
	for _, in := range inputs {
		p := filepath.Join(dir, in.name+".bin")
		if err := os.WriteFile(p, in.data, 0o644); err != nil {
			b.Fatal(err)
		}
		for _, args := range [][]string{{"validate", p}, {"decode", "-json", p}} {
			b.Run(in.name+"/"+args[0]+map[bool]string{true: "-json"}[len(args) == 3], func(b *testing.B) {
				b.SetBytes(int64(len(in.data)))
				for b.Loop() {
					if rc := run(args, nil, io.Discard, io.Discard); rc > exitInvalid {
						b.Fatal(rc)
					}
				}
			})
		}
	}
}
