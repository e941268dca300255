//! The server as the watch loop's host: a queue of requests answered one
//! at a time between inputs, cancellation, open documents, notifications
//! of what the watcher saw.

use std::collections::{HashMap, VecDeque};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Duration;

use lsp_server::{ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::Url;
use rayon::prelude::*;
use serde_json::{json, Value};

use super::handlers::{self, Failure};
use super::protocol::{self, Incoming};
use crate::cli::crc_text;
use crate::cli::watch::{Host, Report, Watch};

/// Enables the `dwarfksyms/test/hold` and `dwarfksyms/test/release`
/// notifications, which stop and restart answering requests (those that
/// arrive meanwhile are queued): a test can then cancel a request that is
/// certainly still queued, with no timing involved.
const TEST_GATE: &str = "DWARFKSYMS_SERVE_TEST_GATE";

pub(crate) struct Server {
    pub cwd: PathBuf,
    /// Requests and notifications not handled yet, in their order (a
    /// document change or `exit` must not overtake a request before it).
    queue: VecDeque<Message>,
    shutdown: bool,
    /// Texts of the documents the client has open, by URI.
    pub docs: HashMap<Url, String>,
    gate: bool,
    held: bool,
    /// The request being answered.
    current: Option<RequestId>,
    /// Test gate: the next request stalls at its first checkpoint until
    /// it is cancelled.
    stall: std::cell::Cell<bool>,
}

impl Server {
    pub fn new(cwd: PathBuf) -> Server {
        let gate = std::env::var_os(TEST_GATE).is_some_and(|v| v == "1");
        Server {
            cwd,
            queue: VecDeque::new(),
            shutdown: false,
            docs: HashMap::new(),
            gate,
            held: false,
            current: None,
            stall: std::cell::Cell::new(false),
        }
    }

    /// Called by handlers between steps of their work: stops a request the
    /// client has cancelled meanwhile.
    pub fn checkpoint(&self) -> Result<(), Failure> {
        let Some(id) = &self.current else { return Ok(()) };
        if self.stall.take() {
            // Tell the test the request has left the queue, so that its
            // cancellation certainly finds it in progress.
            notify("dwarfksyms/test/stalled", json!({ "id": id }));
            protocol::CANCELS.wait_for(id, Duration::from_secs(30));
        }
        if protocol::CANCELS.is_cancelled(id) {
            return Err(Failure::new(ErrorCode::RequestCanceled, "canceled"));
        }
        Ok(())
    }

    /// Notifications that act on the queue itself, at once; `false` for
    /// the others (queued).
    fn immediate(&mut self, n: &Notification) -> bool {
        match n.method.as_str() {
            "$/cancelRequest" => {
                let id = protocol::cancel_id(n);
                // Answered already (or never seen): nothing to do, as the
                // protocol says.
                let queued = |m: &Message| matches!(m, Message::Request(r) if Some(&r.id) == id.as_ref());
                if let Some(pos) = self.queue.iter().position(queued) {
                    if let Some(Message::Request(req)) = self.queue.remove(pos) {
                        protocol::send_error(Some(req.id), ErrorCode::RequestCanceled, "canceled".into());
                    }
                }
                if let Some(id) = id {
                    protocol::CANCELS.forget(&id);
                }
            }
            "dwarfksyms/test/stall" if self.gate => self.stall.set(true),
            "dwarfksyms/test/hold" if self.gate => self.held = true,
            "dwarfksyms/test/release" if self.gate => self.held = false,
            _ => return false,
        }
        true
    }

    fn notification(&mut self, n: Notification) -> ControlFlow<i32> {
        match n.method.as_str() {
            "exit" => return ControlFlow::Break(if self.shutdown { 0 } else { 1 }),
            "textDocument/didOpen" => {
                if let Ok(p) = serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(n.params) {
                    self.docs.insert(p.text_document.uri, p.text_document.text);
                }
            }
            "textDocument/didChange" => {
                if let Ok(p) = serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(n.params) {
                    // Full sync: the last change is the whole text.
                    if let Some(c) = p.content_changes.into_iter().last() {
                        self.docs.insert(p.text_document.uri, c.text);
                    }
                }
            }
            "textDocument/didClose" => {
                if let Ok(p) = serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(n.params) {
                    self.docs.remove(&p.text_document.uri);
                }
            }
            // Other notifications (`initialized`, `$/setTrace`, ...) need
            // nothing from us.
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn answer(&mut self, w: &mut Watch, req: Request) {
        if self.shutdown {
            protocol::send_error(Some(req.id), ErrorCode::InvalidRequest, "the server is shutting down".into());
            return;
        }
        let id = req.id.clone();
        let method = req.method.clone();
        self.current = Some(id.clone());
        // The engine does not panic on bad input; this keeps a bug in a
        // handler from taking the server down with it.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.dispatch(w, req)));
        let response = match result {
            Ok(Ok(value)) => Response::new_ok(id, value),
            Ok(Err(Failure { code, message })) => Response::new_err(id, code as i32, message),
            Err(_) => Response::new_err(id, ErrorCode::InternalError as i32, format!("internal error in {method}")),
        };
        if let Some(id) = self.current.take() {
            protocol::CANCELS.forget(&id);
        }
        protocol::send(response);
    }

    fn dispatch(&mut self, w: &mut Watch, req: Request) -> Result<Value, Failure> {
        self.checkpoint()?;
        let view = handlers::View { w, server: self };
        match req.method.as_str() {
            "shutdown" => {
                self.shutdown = true;
                Ok(Value::Null)
            }
            "initialize" => Err(Failure::new(ErrorCode::InvalidRequest, "initialize was already received")),
            "dwarfksyms/symbol" => view.symbol(req.params),
            "dwarfksyms/dependents" => view.dependents(req.params),
            "dwarfksyms/explain" => view.explain(req.params),
            "workspace/symbol" => view.workspace_symbol(serde_json::from_value(req.params).map_err(bad_params)?),
            "textDocument/hover" => view.hover(serde_json::from_value(req.params).map_err(bad_params)?),
            m => Err(Failure::new(ErrorCode::MethodNotFound, format!("unknown method {m}"))),
        }
    }
}

fn bad_params(e: serde_json::Error) -> Failure {
    Failure::new(ErrorCode::InvalidParams, format!("invalid params: {e}"))
}

fn notify(method: &str, params: Value) {
    protocol::send(Notification::new(method.into(), params));
}

impl Host for Server {
    type Msg = Incoming;

    fn ready(&mut self, w: &mut Watch, objects: usize, exports: usize, took: Duration) -> ControlFlow<i32> {
        // Type graphs are built now, on every core, rather than by the
        // first request that needs them all (`dependents`).
        let options = w.options;
        let files: Vec<_> = w.objects.values().filter(|t| t.reported.is_some()).filter_map(|t| t.obj).collect();
        let db = w.db.clone();
        w.pool.install(move || {
            files.into_par_iter().for_each_with(db, |db, obj| {
                let _ = queries::typegraph::type_graph(db, obj, options);
            })
        });
        let ms = took.as_millis() as u64;
        eprintln!("dwarfksyms serve: ready: {objects} objects, {exports} exports ({ms} ms)");
        notify("dwarfksyms/ready", json!({"objects": objects, "exports": exports, "ms": ms}));
        ControlFlow::Continue(())
    }

    fn reports(&mut self, reports: Vec<Report>) -> ControlFlow<i32> {
        let changes: Vec<Value> = reports
            .iter()
            .map(|r| {
                let (event, symbol, object, old, new) = r.parts();
                json!({
                    "event": event,
                    "symbol": String::from_utf8_lossy(symbol),
                    "object": object.display().to_string(),
                    "old": old.map(crc_text),
                    "new": new.map(crc_text),
                })
            })
            .collect();
        notify("dwarfksyms/changed", json!({ "changes": changes }));
        ControlFlow::Continue(())
    }

    fn settled(&mut self, _w: &mut Watch, took: Duration) -> ControlFlow<i32> {
        notify("dwarfksyms/settled", json!({"ms": took.as_millis() as u64}));
        ControlFlow::Continue(())
    }

    fn message(&mut self, _w: &mut Watch, msg: Incoming) -> ControlFlow<i32> {
        match msg {
            Incoming::Message(Message::Notification(n)) if self.immediate(&n) => {}
            Incoming::Message(m @ (Message::Request(_) | Message::Notification(_))) => self.queue.push_back(m),
            // We send no requests, so no response is awaited.
            Incoming::Message(Message::Response(_)) => {}
            Incoming::Malformed { id, code, message } => {
                eprintln!("dwarfksyms serve: {message}");
                protocol::send_error(id, code, message);
            }
            // What was read before the end is still answered.
            Incoming::Eof => self.queue.push_back(Message::Notification(Notification::new("exit".into(), Value::Null))),
        }
        ControlFlow::Continue(())
    }

    fn busy(&self) -> bool {
        !self.held && !self.queue.is_empty()
    }

    fn idle(&mut self, w: &mut Watch) -> ControlFlow<i32> {
        match self.queue.pop_front() {
            Some(Message::Request(req)) => self.answer(w, req),
            Some(Message::Notification(n)) => return self.notification(n),
            _ => {}
        }
        ControlFlow::Continue(())
    }
}
