//! `dwarfksyms serve`: the versions of a build, answered over the Language
//! Server Protocol on stdio while the build's objects are watched.
//!
//! The server is `dwarfksyms watch`'s loop (`watch::watch`) with another
//! host: the same database, objects and file-event batches, and LSP
//! messages arriving on the same channel as the file events. Requests are
//! queued and answered one at a time on that thread, between inputs: a
//! `$/cancelRequest` read before its request was answered removes it from
//! the queue, and a rewritten object has its new bytes before the next
//! request is answered (the engine's queries are memoized: an answer costs
//! a lookup once an object has been versioned).
//!
//! Layout: `protocol` (framing, malformed input), `server` (the host:
//! queue, cancellation, dispatch), `handlers` (the requests), `hover`
//! (identifiers in source text).

use std::sync::mpsc;

use lsp_server::{ErrorCode, Message, Response};
use lsp_types::{
    HoverProviderCapability, InitializeResult, OneOf, ServerCapabilities, ServerInfo, TextDocumentSyncCapability,
    TextDocumentSyncKind,
};

use super::watch::{self, Input};

mod handlers;
mod hover;
mod protocol;
mod server;

use protocol::Incoming;

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub tree: watch::TreeArgs,
}

pub fn run(args: ServeArgs) -> i32 {
    let roots = match args.tree.roots() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("dwarfksyms serve: {e}");
            return 2;
        }
    };
    let (tx, rx) = mpsc::channel();
    protocol::spawn_reader(tx.clone());
    // The handshake comes first, so a client is not kept waiting for its
    // `initialize` answer while a large build loads; what it sends after
    // that waits in the channel until the load is done.
    if let Some(status) = handshake(&rx) {
        return status;
    }
    let mut server = server::Server::new(roots.cwd.clone());
    // Symtypes on: the answers show the lines versions used.
    watch::watch(&args.tree, roots, true, tx, rx, &mut server)
}

/// Waits for `initialize` and answers it; `Some(status)` when the client
/// left (or said `exit`) before.
fn handshake(rx: &mpsc::Receiver<Input<Incoming>>) -> Option<i32> {
    loop {
        let incoming = match rx.recv() {
            Ok(Input::Other(incoming)) => incoming,
            Ok(Input::File(_)) => continue,
            Err(_) => return Some(1),
        };
        match incoming {
            Incoming::Message(Message::Request(req)) if req.method == "initialize" => {
                protocol::send(Response::new_ok(req.id, capabilities()));
                return None;
            }
            Incoming::Message(Message::Request(req)) => {
                protocol::send_error(Some(req.id), ErrorCode::ServerNotInitialized, "initialize first".into());
            }
            Incoming::Message(Message::Notification(n)) if n.method == "exit" => return Some(1),
            Incoming::Message(_) => {}
            Incoming::Malformed { id, code, message } => protocol::send_error(id, code, message),
            Incoming::Eof => return Some(1),
        }
    }
}

fn capabilities() -> InitializeResult {
    InitializeResult {
        capabilities: ServerCapabilities {
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            workspace_symbol_provider: Some(OneOf::Left(true)),
            // Whole texts: hover needs the identifier under the cursor in
            // what the editor shows, not what is on disk.
            text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
            ..ServerCapabilities::default()
        },
        server_info: Some(ServerInfo { name: "dwarfksyms".into(), version: Some(env!("CARGO_PKG_VERSION").into()) }),
    }
}
