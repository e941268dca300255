//! The wire: LSP base-protocol framing (`Content-Length` headers) and
//! JSON-RPC messages over stdin and stdout.
//!
//! Messages are lsp-server's types, but stdin is read here rather than by
//! `lsp_server::Connection`: its reader thread stops at the first payload
//! that is not a valid message, and a server must answer a malformed
//! message with an error and go on. Stdout carries protocol messages only
//! (logs go to stderr).

use std::io::{BufRead, Write};
use std::sync::mpsc::Sender;

use lsp_server::{ErrorCode, Message, Notification, RequestId, Response};
use serde_json::Value;

use crate::cli::watch::Input;

/// What the reader thread hands the server.
/// Requests the client cancelled, as soon as the reader sees it: the
/// request being answered polls this (the loop that would deliver the
/// notification is the one answering).
pub(crate) static CANCELS: Cancels =
    Cancels { ids: std::sync::Mutex::new(Vec::new()), cond: std::sync::Condvar::new() };

pub(crate) struct Cancels {
    ids: std::sync::Mutex<Vec<RequestId>>,
    cond: std::sync::Condvar,
}

impl Cancels {
    fn cancel(&self, id: RequestId) {
        let mut ids = self.ids.lock().unwrap_or_else(|e| e.into_inner());
        ids.push(id);
        self.cond.notify_all();
    }

    pub fn is_cancelled(&self, id: &RequestId) -> bool {
        self.ids.lock().unwrap_or_else(|e| e.into_inner()).contains(id)
    }

    /// Forgets `id` (answered, or its cancellation handled).
    pub fn forget(&self, id: &RequestId) {
        self.ids.lock().unwrap_or_else(|e| e.into_inner()).retain(|i| i != id);
    }

    /// Waits until `id` is cancelled or `limit` has passed (the test gate's
    /// stall: a request certainly in progress when its cancellation comes).
    pub fn wait_for(&self, id: &RequestId, limit: std::time::Duration) {
        let ids = self.ids.lock().unwrap_or_else(|e| e.into_inner());
        let _ = self.cond.wait_timeout_while(ids, limit, |ids| !ids.contains(id));
    }
}

pub(crate) enum Incoming {
    Message(Message),
    /// A frame that is not a message: answered with this error (`id`:
    /// the request's, when one could be read; JSON-RPC's `null` otherwise).
    Malformed {
        id: Option<RequestId>,
        code: ErrorCode,
        message: String,
    },
    /// Stdin closed (or could not be read).
    Eof,
}

/// Reads stdin on a thread of its own until it ends; every frame becomes
/// one `Incoming`.
pub(crate) fn spawn_reader(tx: Sender<Input<Incoming>>) {
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        loop {
            let incoming = match read_frame(&mut input) {
                Ok(Some(Ok(body))) => parse(&body),
                Ok(Some(Err(why))) => Incoming::Malformed { id: None, code: ErrorCode::ParseError, message: why },
                Ok(None) => Incoming::Eof,
                Err(e) => {
                    eprintln!("dwarfksyms serve: reading stdin: {e}");
                    Incoming::Eof
                }
            };
            if let Incoming::Message(Message::Notification(n)) = &incoming {
                if let Some(id) = cancel_id(n) {
                    CANCELS.cancel(id);
                }
            }
            let eof = matches!(incoming, Incoming::Eof);
            if tx.send(Input::Other(incoming)).is_err() || eof {
                return;
            }
        }
    });
}

/// The next frame's body; `Some(Err)` for a frame whose headers are wrong
/// (the reader has skipped to the end of them and goes on); `None` at the
/// end of the input.
fn read_frame(r: &mut impl BufRead) -> std::io::Result<Option<Result<Vec<u8>, String>>> {
    let mut length: Option<Result<usize, String>> = None;
    let mut line = String::new();
    let mut any = false;
    loop {
        line.clear();
        let mut raw = Vec::new();
        if r.read_until(b'\n', &mut raw)? == 0 {
            return Ok(None);
        }
        line.push_str(&String::from_utf8_lossy(&raw));
        let l = line.trim_end_matches(['\r', '\n']);
        if l.is_empty() {
            if any {
                break;
            }
            // Blank lines between frames: tolerated.
            continue;
        }
        any = true;
        match l.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                length = Some(
                    value.trim().parse::<usize>().map_err(|e| format!("bad Content-Length {:?}: {e}", value.trim())),
                );
            }
            Some(_) => {}
            None => length = Some(Err(format!("malformed header line {l:?}"))),
        }
    }
    let n = match length {
        Some(Ok(n)) => n,
        Some(Err(e)) => return Ok(Some(Err(e))),
        None => return Ok(Some(Err("a frame without Content-Length".into()))),
    };
    // A frame larger than any request could be is not read into memory.
    const MAX: usize = 256 << 20;
    if n > MAX {
        return Ok(Some(Err(format!("Content-Length {n} is too large"))));
    }
    let mut body = vec![0; n];
    r.read_exact(&mut body)?;
    Ok(Some(Ok(body)))
}

/// A frame's body as a message, or the error to answer it with.
fn parse(body: &[u8]) -> Incoming {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return Incoming::Malformed { id: None, code: ErrorCode::ParseError, message: format!("invalid JSON: {e}") }
        }
    };
    let id = value.get("id").and_then(|id| serde_json::from_value::<RequestId>(id.clone()).ok());
    let has_method = value.get("method").is_some_and(Value::is_string);
    let is_response = value.get("result").is_some() || value.get("error").is_some();
    if !value.is_object() || !(has_method || is_response) {
        return Incoming::Malformed { id, code: ErrorCode::InvalidRequest, message: "not a JSON-RPC request".into() };
    }
    match serde_json::from_value::<Message>(value) {
        Ok(m) => Incoming::Message(m),
        Err(e) => {
            Incoming::Malformed { id, code: ErrorCode::InvalidRequest, message: format!("not a JSON-RPC message: {e}") }
        }
    }
}

/// Writes one message to stdout. A failed write means the client is gone;
/// the server notices when stdin ends.
pub(crate) fn send(msg: impl Into<Message>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = msg.into().write(&mut out) {
        eprintln!("dwarfksyms serve: writing stdout: {e}");
    }
}

/// An error response; `id` `None` is JSON-RPC's `"id": null` (an error
/// about a message whose id could not be read), which lsp-server's
/// `Response` cannot hold.
pub(crate) fn send_error(id: Option<RequestId>, code: ErrorCode, message: String) {
    match id {
        Some(id) => send(Response::new_err(id, code as i32, message)),
        None => {
            let text =
                serde_json::json!({"jsonrpc": "2.0", "id": null, "error": {"code": code as i32, "message": message}});
            let text = text.to_string();
            let mut out = std::io::stdout().lock();
            let r = write!(out, "Content-Length: {}\r\n\r\n{text}", text.len()).and_then(|()| out.flush());
            if let Err(e) = r {
                eprintln!("dwarfksyms serve: writing stdout: {e}");
            }
        }
    }
}

/// The request a `$/cancelRequest` notification cancels; `None` for any
/// other notification (or a cancel without a usable id).
pub(crate) fn cancel_id(n: &Notification) -> Option<RequestId> {
    if n.method != "$/cancelRequest" {
        return None;
    }
    n.params.get("id").and_then(|id| serde_json::from_value::<RequestId>(id.clone()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8]) -> Vec<Result<Vec<u8>, String>> {
        let mut r = input;
        let mut out = Vec::new();
        while let Some(f) = read_frame(&mut r).unwrap() {
            out.push(f);
        }
        out
    }

    #[test]
    fn frames_and_bad_headers() {
        let got = frames(
            b"Content-Length: 2\r\n\r\n{}content-length:3\r\nX: y\r\n\r\nabcNo colon\r\n\r\nContent-Length: 1\r\n\r\n7",
        );
        assert_eq!(got.len(), 4);
        assert_eq!(got[0], Ok(b"{}".to_vec()));
        assert_eq!(got[1], Ok(b"abc".to_vec()));
        assert!(got[2].is_err());
        assert_eq!(got[3], Ok(b"7".to_vec()));
    }

    #[test]
    fn parse_errors() {
        assert!(matches!(parse(b"{"), Incoming::Malformed { id: None, code: ErrorCode::ParseError, .. }));
        assert!(matches!(parse(b"[1]"), Incoming::Malformed { code: ErrorCode::InvalidRequest, .. }));
        assert!(matches!(
            parse(br#"{"id":4,"params":{}}"#),
            Incoming::Malformed { id: Some(_), code: ErrorCode::InvalidRequest, .. }
        ));
        assert!(matches!(parse(br#"{"id":4,"method":"x"}"#), Incoming::Message(Message::Request(_))));
        assert!(matches!(parse(br#"{"method":"x"}"#), Incoming::Message(Message::Notification(_))));
    }
}
