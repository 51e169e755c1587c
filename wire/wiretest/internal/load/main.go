// Command load drives a Parsec service on a Unix socket with many concurrent clients.
//
// With -mode soak the clients mix good requests with hostile ones (garbage, slow senders,
// huge announced lengths, stalls, mid-frame disconnects, silence), check every answer, and
// print their own counts in the form of parsecwire serve's summary, so that a script can
// compare the two; it exits 1 when a good request is lost or an answer is wrong.
//
// With -mode bench the clients send Ping requests, one connection each, as fast as they
// can, and it prints the requests per second.
//
//	go run ./wire/wiretest/internal/load -socket /tmp/p.sock -mode bench -clients 200 -duration 10s
//
// .ci/soak and .ci/load drive it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
	"github.com/parsecwire/parsecwire/wire"
	"github.com/parsecwire/parsecwire/wire/wiretest"
)

func main() {
	socket := flag.String("socket", "", "the service's socket")
	mode := flag.String("mode", "soak", "soak or bench")
	clients := flag.Int("clients", 400, "concurrent clients")
	duration := flag.Duration("duration", 20*time.Second, "how long clients start new exchanges")
	patience := flag.Duration("patience", 60*time.Second, "how long a client waits for its answer (queued behind -max-conns)")
	seed := flag.Uint64("seed", 1, "seed of the clients' choices")
	flag.Parse()
	if *socket == "" {
		fmt.Fprintln(os.Stderr, "load: -socket is required")
		os.Exit(2)
	}
	switch *mode {
	case "bench":
		os.Exit(bench(*socket, *clients, *duration, *patience))
	case "soak":
		os.Exit(soak(*socket, *clients, *duration, *patience, *seed))
	}
	fmt.Fprintf(os.Stderr, "load: -mode %q: want soak or bench\n", *mode)
	os.Exit(2)
}

// dial connects, retrying while the service's listen queue is full (EAGAIN).
func dial(socket string, patience time.Duration, retries *atomic.Uint64) (net.Conn, error) {
	deadline := time.Now().Add(patience)
	pause := time.Millisecond
	for {
		c, err := net.Dial("unix", socket)
		if err == nil || !errors.Is(err, syscall.EAGAIN) || time.Now().After(deadline) {
			return c, err
		}
		retries.Add(1)
		time.Sleep(pause)
		pause = min(2*pause, 50*time.Millisecond)
	}
}

func bench(socket string, clients int, duration, patience time.Duration) int {
	var done, failed, retries atomic.Uint64
	var firstErr atomic.Value
	stop := time.Now().Add(duration)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			for n := 0; time.Now().Before(stop); n++ {
				conn, err := dial(socket, patience, &retries)
				if err == nil {
					c := wire.NewClient(conn)
					var resp header.Header
					_ = conn.SetDeadline(time.Now().Add(patience))
					_, err = c.RoundTrip(ctx, header.Header{Session: uint64(i)<<32 | uint64(n), Opcode: header.OpPing}, nil, nil, &resp)
					c.Close()
				}
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
					continue
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	fmt.Printf("load: %d clients, %v: %d requests answered, %.0f/s; %d failed; %d connects retried (EAGAIN)\n",
		clients, elapsed.Round(10*time.Millisecond), done.Load(), float64(done.Load())/elapsed.Seconds(), failed.Load(), retries.Load())
	if err, ok := firstErr.Load().(error); ok {
		fmt.Fprintln(os.Stderr, "load: first failure:", err)
		return 1
	}
	return 0
}

// The kinds of soak client, with their weights.
var kinds = []struct {
	name   string
	weight int
}{
	{"good", 40}, {"slow", 10}, {"garbage", 10}, {"huge", 10}, {"stall-body", 5}, {"stall-auth", 5}, {"cut", 10}, {"silent", 10},
}

// tally is the clients' own account, in the server's terms.
type tally struct {
	mu         sync.Mutex
	st         wiretest.Stats
	byKind     map[string]int
	lost       []string // good requests not answered right
	unexpected []string // answers other than the reference's
	retries    atomic.Uint64
}

func (t *tally) add(kind string, got []byte, problem string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.st.Connections++
	t.byKind[kind]++
	switch {
	case len(got) == 0:
		t.st.Dropped++
	case len(got) >= 34:
		t.st.Answered++
		t.st.ByStatus[uint16(got[32])|uint16(got[33])<<8]++
	default:
		t.st.Answered++
		t.st.Cut++
	}
	if problem != "" {
		if kind == "good" || kind == "slow" {
			t.lost = append(t.lost, kind+": "+problem)
		} else {
			t.unexpected = append(t.unexpected, kind+": "+problem)
		}
	}
}

func soak(socket string, clients int, duration, patience time.Duration, seed uint64) int {
	t := &tally{byKind: map[string]int{}}
	t.st.ByStatus = map[uint16]uint64{}
	total := 0
	for _, k := range kinds {
		total += k.weight
	}
	stop := time.Now().Add(duration)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			for n := 0; time.Now().Before(stop); n++ {
				w := rng.IntN(total)
				kind := kinds[0].name
				for _, k := range kinds {
					if w < k.weight {
						kind = k.name
						break
					}
					w -= k.weight
				}
				if err := one(socket, kind, rng, uint64(i)<<32|uint64(n), patience, t); err != nil {
					t.mu.Lock()
					t.unexpected = append(t.unexpected, kind+": "+err.Error())
					t.mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	// A last good request: the server accepts in order, so once it is answered every
	// connection made before it has been accepted (and so counted) too.
	if err := one(socket, "good", rand.New(rand.NewPCG(seed, 0)), 1<<63, patience, t); err != nil {
		t.unexpected = append(t.unexpected, "final: "+err.Error())
	}
	elapsed := time.Since(start)
	var parts []string
	for k, n := range t.byKind {
		parts = append(parts, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(parts)
	fmt.Fprintf(os.Stderr, "load: %d clients for %v; exchanges by kind: %s; %d connects retried (EAGAIN)\n",
		clients, elapsed.Round(time.Second), strings.Join(parts, ", "), t.retries.Load())
	fmt.Println("load: " + t.st.String())
	code := 0
	if len(t.lost) > 0 {
		fmt.Fprintf(os.Stderr, "load: %d good requests lost, first: %s\n", len(t.lost), t.lost[0])
		code = 1
	}
	if len(t.unexpected) > 0 {
		fmt.Fprintf(os.Stderr, "load: %d wrong answers, first: %s\n", len(t.unexpected), t.unexpected[0])
		code = 1
	}
	return code
}

// one makes one soak exchange of the given kind on its own connection and records it.
// It returns an error only when the client cannot connect at all.
func one(socket, kind string, rng *rand.Rand, session uint64, patience time.Duration, t *tally) error {
	conn, err := dial(socket, patience, &t.retries)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(patience))
	ops := []uint32{header.OpPing, header.OpListProviders, header.OpListOpcodes, header.OpListAuthenticators}
	good := header.Header{Provider: uint8(rng.IntN(2)), Session: session, Opcode: ops[rng.IntN(len(ops))]}
	req, _ := wire.AppendRequest(nil, good, nil, nil)
	var want header.Header // the answer the reference gives
	wantStatusOnly := true
	switch kind {
	case "good":
		_, _ = conn.Write(req)
		want, wantStatusOnly = header.Header{Provider: good.Provider, Session: session, Opcode: good.Opcode}, false
	case "slow":
		for b := req; len(b) > 0; {
			n := min(len(b), 1+rng.IntN(12))
			if _, err := conn.Write(b[:n]); err != nil {
				break
			}
			b = b[n:]
			time.Sleep(time.Duration(1+rng.IntN(20)) * time.Millisecond)
		}
		want, wantStatusOnly = header.Header{Provider: good.Provider, Session: session, Opcode: good.Opcode}, false
	case "garbage":
		b := make([]byte, 4+rng.IntN(200)) // four bytes at least: fewer wait for the rest of a magic number
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		b[0] = 'G' // never the magic number's first byte
		_, _ = conn.Write(b)
		want = wiretest.StatusOnly(status.InvalidHeader)
	case "huge":
		h := good
		h.ContentLength = 0xFFFFFFFF
		_, _ = conn.Write(h.AppendRaw(nil))
		want = wiretest.StatusOnly(status.BodySizeExceedsLimit)
	case "stall-body": // announce a body at the limit, send a fifth of it, then wait
		h := good
		h.ContentLength = wire.DefaultLimit
		_, _ = conn.Write(append(h.AppendRaw(nil), make([]byte, wire.DefaultLimit/5)...))
		want = wiretest.StatusOnly(status.ConnectionError)
	case "stall-auth": // announce 64 KiB of auth bytes, send 10, then wait
		h := good
		h.AuthType, h.AuthLength = header.AuthDirect, 0xFFFF
		_, _ = conn.Write(append(h.AppendRaw(nil), "0123456789"...))
		want = wiretest.StatusOnly(status.ConnectionError)
	case "cut": // half a request, then gone
		_, _ = conn.Write(req[:1+rng.IntN(len(req)-1)])
		conn.Close()
		t.add(kind, nil, "")
		return nil
	case "silent":
	}
	got, rerr := io.ReadAll(conn)
	if errors.Is(rerr, os.ErrDeadlineExceeded) {
		t.add(kind, got, fmt.Sprintf("session %x: no answer within %v (%d bytes)", session, patience, len(got)))
		return nil
	}
	if kind == "silent" {
		problem := ""
		if len(got) > 0 {
			problem = fmt.Sprintf("%d bytes sent to a client that sent nothing", len(got))
		}
		t.add(kind, got, problem)
		return nil
	}
	problem := ""
	rd := wire.NewReader(strings.NewReader(string(got)))
	var h header.Header
	body, err := rd.Next(&h)
	switch {
	case err != nil:
		problem = fmt.Sprintf("session %x: answer %x: %v", session, got, err)
	case wantStatusOnly && h != want:
		problem = fmt.Sprintf("answer %+v, want %+v", h, want)
	case !wantStatusOnly && (h.Status != status.Success || h.Session != want.Session || h.Opcode != want.Opcode || h.Provider != want.Provider):
		problem = fmt.Sprintf("session %x: answer %+v, want an echo with Success", session, h)
	case int(rd.Offset()) != len(got):
		problem = fmt.Sprintf("%d bytes after the answer", len(got)-int(rd.Offset()))
	}
	_ = body
	t.add(kind, got, problem)
	return nil
}
