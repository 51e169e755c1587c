package wire

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parsecwire/parsecwire/header"
	"github.com/parsecwire/parsecwire/status"
)

// DefaultSocket is the Parsec service's socket when PARSEC_SERVICE_ENDPOINT is not set.
const DefaultSocket = "/run/parsec/parsec.sock"

// EndpointEnv is the environment variable through which Parsec clients find the service,
// written unix:/path/to/parsec.sock.
const EndpointEnv = "PARSEC_SERVICE_ENDPOINT"

// Endpoint returns the path of the service's socket: from PARSEC_SERVICE_ENDPOINT when it is
// set, else DefaultSocket.
func Endpoint() (string, error) {
	v, ok := os.LookupEnv(EndpointEnv)
	if !ok || v == "" {
		return DefaultSocket, nil
	}
	return ParseEndpoint(v)
}

// ParseEndpoint returns the socket path of an endpoint written unix:/path or unix:///path.
func ParseEndpoint(s string) (string, error) {
	path, ok := strings.CutPrefix(s, "unix:")
	if !ok {
		return "", errors.New("wire: endpoint " + strconv.Quote(s) + ": only unix:/path/to/socket is supported")
	}
	path = strings.TrimPrefix(path, "//")
	if path == "" {
		return "", errors.New("wire: endpoint " + strconv.Quote(s) + ": no socket path")
	}
	return path, nil
}

// Dial connects to the service's socket at path, or at Endpoint() when path is "".
func Dial(ctx context.Context, path string) (*Client, error) {
	if path == "" {
		var err error
		if path, err = Endpoint(); err != nil {
			return nil, err
		}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	return NewClient(conn), nil
}

// Client makes request/response round trips on one connection to a Parsec service. The
// Parsec service answers one request per connection and then closes it; dial a new Client
// for each request to such a service. A Client is not safe for concurrent use.
type Client struct {
	conn net.Conn
	r    *Reader
	wbuf []byte
}

// NewClient returns a Client on conn. Its Reader (see Reader) has the default settings.
func NewClient(conn net.Conn) *Client {
	// The buffer saves a system call per header field; the Reader above it still consumes
	// exactly one frame, and nothing else reads conn.
	return &Client{conn: conn, r: NewReader(bufio.NewReaderSize(conn, 4096))}
}

// Reader returns the Client's response reader, to change its limit or checks.
func (c *Client) Reader() *Reader { return c.r }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// RoundTrip sends one request (req with its lengths set from body and auth, encoded into a
// buffer the Client reuses and sent with one Write) and reads its response into resp. The
// returned body stays valid until the next call on the Client.
//
// ctx's deadline and cancellation reach the connection: a deadline becomes the connection's,
// and a cancellation interrupts a blocked read or write. The error then matches ctx.Err() as
// well as the connection's os.ErrDeadlineExceeded.
//
// A response whose status is not Success is reported as a *ServiceError (matching its status
// with errors.Is) before anything else is compared: the reference service answers a request
// it cannot read with a response built from the status alone (provider 0, session 0,
// opcode 1), so comparing the opcode first would hide the service's reason. A Success
// response whose opcode, provider or session differ from the request's is a *MismatchError.
func (c *Client) RoundTrip(ctx context.Context, req header.Header, body, auth []byte, resp *header.Header) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dl, _ := ctx.Deadline()
	if err := c.conn.SetDeadline(dl); err != nil {
		return nil, err
	}
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	b, err := AppendRequest(c.wbuf[:0], req, body, auth)
	if err != nil {
		return nil, err
	}
	c.wbuf = b
	_, werr := c.conn.Write(b)
	// Even when the write fails, an answer may be waiting: a service that stops reading at a
	// bad header answers and closes, and the rest of the request then meets a closed socket.
	rbody, err := c.r.Next(resp)
	if err = FrameDue(err); err != nil {
		if werr != nil {
			err = &connError{op: "write request", err: werr}
		}
		return rbody, withContext(ctx, dl, err)
	}
	if resp.Status != status.Success {
		return rbody, &ServiceError{Status: resp.Status, Opcode: req.Opcode}
	}
	switch {
	case resp.Opcode != req.Opcode:
		return rbody, &MismatchError{Field: header.FieldOpcode, Got: uint64(resp.Opcode), Want: uint64(req.Opcode)}
	case resp.Provider != req.Provider:
		return rbody, &MismatchError{Field: header.FieldProvider, Got: uint64(resp.Provider), Want: uint64(req.Provider)}
	case resp.Session != req.Session:
		return rbody, &MismatchError{Field: header.FieldSession, Got: resp.Session, Want: req.Session}
	}
	return rbody, nil
}

// ServiceError is a well-formed response whose status is not Success: the service's answer
// to the request. errors.Is(err, status.PsaErrorDoesNotExist) (or whichever) matches it.
type ServiceError struct {
	Status status.Code // the response's status
	Opcode uint32      // the request's opcode
}

// Error names the request's operation and the status with its description.
func (e *ServiceError) Error() string {
	op, ok := header.OpcodeName(e.Opcode)
	if !ok {
		op = "opcode " + strconv.FormatUint(uint64(e.Opcode), 10)
	}
	return "parsec service refused " + op + ": status " + strconv.Itoa(int(e.Status)) + " " + e.Status.String() + " (" + e.Status.Description() + ")"
}

// Unwrap returns the response's status.
func (e *ServiceError) Unwrap() error { return e.Status }

// ErrMismatch is matched by every *MismatchError.
var ErrMismatch = errors.New("wire: response does not answer the request")

// withContext adds ctx's error to err when ctx is done, so that the caller can tell a
// cancellation or an expired deadline from the connection failing.
func withContext(ctx context.Context, dl time.Time, err error) error {
	cerr := ctx.Err()
	if cerr == nil && !dl.IsZero() && !time.Now().Before(dl) {
		// The connection's deadline can fire a moment before the context's timer.
		cerr = context.DeadlineExceeded
	}
	if cerr != nil {
		return &ctxError{ctx: cerr, err: err}
	}
	return err
}

// connError is a failed write on the connection: a ConnectionError.
type connError struct {
	op  string
	err error
}

func (e *connError) Error() string {
	return "wire: " + e.op + ": " + e.err.Error() + " (ConnectionError)"
}
func (e *connError) Is(target error) bool { return target == status.ConnectionError }
func (e *connError) Status() status.Code  { return status.ConnectionError }
func (e *connError) Unwrap() error        { return e.err }

type ctxError struct{ ctx, err error }

func (e *ctxError) Error() string   { return e.ctx.Error() + ": " + e.err.Error() }
func (e *ctxError) Unwrap() []error { return []error{e.ctx, e.err} }
