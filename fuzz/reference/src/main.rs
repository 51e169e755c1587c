//! The reference implementation's verdicts on Parsec frames, one line in, one line out.
//!
//! Batch mode (no arguments) reads commands from stdin:
//!   response LIMIT HEX   read a response with Response::read_from_stream
//!   request LIMIT HEX    read a request with Request::read_from_stream
//!   status V             ResponseStatus::try_from(V)
//!   encode PROVIDER SESSION CONTENT_TYPE OPCODE STATUS BODYHEX
//!                        the bytes Response::write_to_stream writes
//!   operation OPCODE HEX ProtobufConverter::body_to_operation of a request body
//!   result OPCODE HEX    ProtobufConverter::body_to_result of a response body
//! and answers each with one line:
//!   ok consumed=N provider=P session=S content_type=C opcode=O status=V body=HEX
//!   err status=V consumed=N
//!   ok hex=HEX
//!   ok canon=HEX         (operation, result: the native value converted back to a body by
//!                        operation_to_body / result_to_body; canon-err=V when that fails)
//!   err status=V
//!
//! Server mode: `parsecwire-reference serve SOCKET [LIMIT]` does what the Parsec service's
//! front end and the first step of its back end do: one request per connection, read with
//! Request::read_from_stream and the limit; on error Response::from_status(status); else the
//! body converted with ProtobufConverter::body_to_operation, and
//! Response::from_request_header(header, status), status Success or the converter's, with an
//! empty body (the smallest valid result for AttestKey and PrepareKeyAttestation, whose
//! empty result the converter refuses); then close.
use num_traits::FromPrimitive;
use parsec_interface::operations::{attest_key, prepare_key_attestation, Convert, NativeResult};
use parsec_interface::operations_protobuf::ProtobufConverter;
use parsec_interface::requests::request::Request;
use parsec_interface::requests::response::{Response, ResponseBody, ResponseHeader};
use parsec_interface::requests::{BodyType, Opcode, ProviderId, ResponseStatus};
use std::convert::TryFrom;
use std::io::{self, BufRead, Cursor, Write};
use std::os::unix::net::UnixListener;
use std::time::Duration;

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{:02x}", x)).collect()
}

fn response(limit: usize, bytes: &[u8]) -> String {
    let mut cur = Cursor::new(bytes);
    match Response::read_from_stream(&mut cur, limit) {
        Ok(r) => format!(
            "ok consumed={} provider={} session={} content_type={} opcode={} status={} body={}",
            cur.position(),
            r.header.provider as u8,
            r.header.session,
            r.header.content_type as u8,
            r.header.opcode as u32,
            r.header.status as u16,
            to_hex(&r.body)
        ),
        Err(s) => format!("err status={} consumed={}", s as u16, cur.position()),
    }
}

fn request(limit: usize, bytes: &[u8]) -> String {
    let mut cur = Cursor::new(bytes);
    match Request::read_from_stream(&mut cur, limit) {
        Ok(r) => format!(
            "ok consumed={} provider={} session={} content_type={} opcode={} accept_type={} auth_type={} body={}",
            cur.position(),
            r.header.provider as u8,
            r.header.session,
            r.header.content_type as u8,
            r.header.opcode as u32,
            r.header.accept_type as u8,
            r.header.auth_type as u8,
            to_hex(r.body.bytes())
        ),
        Err(s) => format!("err status={} consumed={}", s as u16, cur.position()),
    }
}

fn encode(args: &[&str]) -> Result<String, String> {
    if args.len() != 6 {
        return Err("encode wants 6 arguments".into());
    }
    let num = |i: usize| args[i].parse::<u64>().map_err(|e| e.to_string());
    let provider = ProviderId::try_from(num(0)? as u8).map_err(|s| format!("provider: {}", s as u16))?;
    let content_type = BodyType::from_u8(num(2)? as u8).ok_or("content type")?;
    let opcode = Opcode::from_u32(num(3)? as u32).ok_or("opcode")?;
    let status = ResponseStatus::try_from(num(4)? as u16).map_err(|s| format!("status: {}", s as u16))?;
    let body = from_hex(args[5].trim_start_matches('-')).ok_or("body hex")?;
    // The crate builds a body only by reading one: read a frame that carries it.
    let mut carrier = vec![0x10, 0xa7, 0xc0, 0x5e, 30, 0, 1, 0];
    carrier.extend_from_slice(&[0u8; 14]);
    carrier.extend_from_slice(&(body.len() as u32).to_le_bytes());
    carrier.extend_from_slice(&[0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    carrier.extend_from_slice(&body);
    let mut r = Response::read_from_stream(&mut Cursor::new(carrier), usize::MAX)
        .map_err(|s| format!("carrier: {}", s as u16))?;
    r.header = ResponseHeader {
        provider,
        session: num(1)?,
        content_type,
        opcode,
        status,
    };
    let mut out = Vec::new();
    r.write_to_stream(&mut out).map_err(|s| format!("write: {}", s as u16))?;
    Ok(format!("ok hex={}", to_hex(&out)))
}

/// A 1.0 header with the given content length and opcode 1, valid as a request and as a
/// response: the crate builds a body only by reading a frame that carries it.
fn carrier(body: &[u8]) -> Vec<u8> {
    let mut c = vec![0x10, 0xa7, 0xc0, 0x5e, 30, 0, 1, 0];
    c.extend_from_slice(&[0u8; 14]);
    c.extend_from_slice(&(body.len() as u32).to_le_bytes());
    c.extend_from_slice(&[0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    c.extend_from_slice(body);
    c
}

fn body(kind: &str, opcode: u32, bytes: &[u8]) -> String {
    let op = match Opcode::from_u32(opcode) {
        Some(op) => op,
        None => return "bad input".to_string(),
    };
    let conv = ProtobufConverter;
    let frame = carrier(bytes);
    if kind == "operation" {
        let req = match Request::read_from_stream(&mut Cursor::new(frame), usize::MAX) {
            Ok(r) => r,
            Err(s) => return format!("carrier err status={}", s as u16),
        };
        match conv.body_to_operation(req.body, op) {
            Ok(native) => match conv.operation_to_body(native) {
                Ok(b) => format!("ok canon={}", to_hex(b.bytes())),
                Err(s) => format!("ok canon-err={}", s as u16),
            },
            Err(s) => format!("err status={}", s as u16),
        }
    } else {
        let resp = match Response::read_from_stream(&mut Cursor::new(frame), usize::MAX) {
            Ok(r) => r,
            Err(s) => return format!("carrier err status={}", s as u16),
        };
        match conv.body_to_result(resp.body, op) {
            Ok(native) => match conv.result_to_body(native) {
                Ok(b) => format!("ok canon={}", to_hex(b.bytes())),
                Err(s) => format!("ok canon-err={}", s as u16),
            },
            Err(s) => format!("err status={}", s as u16),
        }
    }
}

fn batch() {
    let stdin = io::stdin();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    for line in stdin.lock().lines() {
        let line = line.expect("stdin");
        let f: Vec<&str> = line.split_whitespace().collect();
        let ans = match f.as_slice() {
            ["response", limit, hex] | ["request", limit, hex] => {
                match (limit.parse::<usize>(), from_hex(hex.trim_start_matches('-'))) {
                    (Ok(l), Some(b)) if f[0] == "response" => response(l, &b),
                    (Ok(l), Some(b)) => request(l, &b),
                    _ => "bad input".to_string(),
                }
            }
            ["status", v] => match v.parse::<u16>() {
                Ok(v) => match ResponseStatus::try_from(v) {
                    Ok(s) => format!("ok status={}", s as u16),
                    Err(s) => format!("err status={}", s as u16),
                },
                Err(_) => "bad input".to_string(),
            },
            ["operation", op, hex] | ["result", op, hex] => {
                match (op.parse::<u32>(), from_hex(hex.trim_start_matches('-'))) {
                    (Ok(op), Some(b)) => body(f[0], op, &b),
                    _ => "bad input".to_string(),
                }
            }
            ["encode", rest @ ..] => encode(rest).unwrap_or_else(|e| format!("err {}", e)),
            _ => "bad input".to_string(),
        };
        writeln!(out, "{}", ans).expect("stdout");
        out.flush().expect("stdout");
    }
}

fn serve(path: &str, limit: usize) {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path).expect("bind");
    eprintln!("parsecwire-reference: serving {} (body limit {})", path, limit);
    for conn in listener.incoming() {
        let mut stream = match conn {
            Ok(s) => s,
            Err(_) => continue,
        };
        std::thread::spawn(move || {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
            let resp = match Request::read_from_stream(&mut stream, limit) {
                // As the Parsec service's back end: the body converted to the native
                // operation, and a body it refuses answered with the converter's status.
                Ok(req) => {
                    let opcode = req.header.opcode;
                    match ProtobufConverter.body_to_operation(req.body, opcode) {
                        Ok(_) => {
                            let mut resp = Response::from_request_header(req.header, ResponseStatus::Success);
                            if let Some(body) = minimal_result(opcode) {
                                resp.body = body;
                            }
                            resp
                        }
                        Err(status) => Response::from_request_header(req.header, status),
                    }
                }
                Err(status) => Response::from_status(status),
            };
            let _ = resp.write_to_stream(&mut stream);
        });
    }
}

/// The smallest result the converter accepts, for the two operations whose empty result it
/// refuses (an attestation output is mandatory); every other result may be empty.
fn minimal_result(opcode: Opcode) -> Option<ResponseBody> {
    let result = match opcode {
        Opcode::AttestKey => NativeResult::AttestKey(attest_key::Result::ActivateCredential {
            credential: Vec::new().into(),
        }),
        Opcode::PrepareKeyAttestation => {
            NativeResult::PrepareKeyAttestation(prepare_key_attestation::Result::ActivateCredential {
                name: Vec::new().into(),
                public: Vec::new().into(),
                attesting_key_pub: Vec::new().into(),
            })
        }
        _ => return None,
    };
    ProtobufConverter.result_to_body(result).ok()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        None => batch(),
        Some("serve") if args.len() >= 3 => {
            let limit = args.get(3).and_then(|l| l.parse().ok()).unwrap_or(1 << 20);
            serve(&args[2], limit)
        }
        _ => {
            eprintln!("usage: parsecwire-reference [serve SOCKET [LIMIT]]");
            std::process::exit(2)
        }
    }
}
