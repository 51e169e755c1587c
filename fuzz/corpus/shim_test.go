//go:build ignore

// A differential check of DecodeRaw against go-118-fuzz-build's own testing shim. It needs the
// shim in go.mod, which the module does not carry, so it is built only on request, in the
// scratch copy where .clusterfuzzlite/local.sh builds the targets:
//
//	go test fuzz/corpus/shim_test.go
package corpus_test

import (
	"math/rand/v2"
	"reflect"
	"testing"

	shim "github.com/AdamKorcz/go-118-fuzz-build/testing"

	"github.com/parsecwire/parsecwire/fuzz/corpus"
)

var reflectTypes = map[string]reflect.Type{}

func init() {
	for _, v := range []any{[]byte{}, "", false, int(0), int8(0), int16(0), int32(0), int64(0), uint(0),
		uint8(0), uint16(0), uint32(0), uint64(0), float32(0), float64(0)} {
		reflectTypes[corpus.TypeOf(v)] = reflect.TypeOf(v)
	}
}

// viaShim returns the arguments the shim passes to a fuzz function of the given types, and
// whether it calls the function at all.
func viaShim(data []byte, types []string) ([]any, bool) {
	in := []reflect.Type{reflect.TypeOf(&shim.T{})}
	for _, t := range types {
		in = append(in, reflectTypes[t])
	}
	var got []any
	called := false
	fn := reflect.MakeFunc(reflect.FuncOf(in, nil, false), func(args []reflect.Value) []reflect.Value {
		called = true
		for _, a := range args[1:] {
			v := a.Interface()
			if b, ok := v.([]byte); ok {
				v = append([]byte{}, b...)
			}
			got = append(got, v)
		}
		return nil
	})
	f := &shim.F{Data: data, T: shim.NewT()}
	f.Fuzz(fn.Interface())
	return got, called
}

// same compares values bit for bit (a NaN equals itself), through their Go corpus form.
func same(a, b []any) bool {
	fa, errA := corpus.FormatGo(a)
	fb, errB := corpus.FormatGo(b)
	return errA == nil && errB == nil && string(fa) == string(fb)
}

func TestDecodeRawMatchesShim(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	names := corpus.Types
	for i := 0; i < 200000; i++ {
		types := make([]string, 1+rng.IntN(4))
		for j := range types {
			types[j] = names[rng.IntN(len(names))]
		}
		data := make([]byte, rng.IntN(48))
		for j := range data {
			data[j] = byte(rng.Uint32())
			if rng.IntN(3) == 0 {
				data[j] = byte(rng.IntN(4)) // small lengths, so that []byte and string fit
			}
		}
		want, called := viaShim(data, types)
		got, err := corpus.DecodeRaw(data, types)
		if !called {
			if err != corpus.ErrShort {
				t.Fatalf("%x as %v: the shim does not call the target, DecodeRaw gives %v, %v", data, types, got, err)
			}
			continue
		}
		if err != nil || !same(got, want) {
			t.Fatalf("%x as %v: shim %#v, DecodeRaw %#v, %v", data, types, want, got, err)
		}
		// And back: the encoding of what the shim drew makes it draw the same values.
		raw, err := corpus.EncodeRaw(want)
		if err != nil {
			t.Fatal(err)
		}
		if again, ok := viaShim(raw, types); !ok || !same(again, want) {
			t.Fatalf("%v encoded as %x: the shim draws %#v", want, raw, again)
		}
	}
}
