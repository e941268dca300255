//! Command-line front ends of dwarfksyms. The engine lives in the `queries` crate.

pub mod alloc;
pub mod cli;
pub mod dropin;
pub mod stack;

/// Sends the engine's tracing spans to stderr, only when `RUST_LOG` asks
/// for them: the drop-in's stderr must otherwise stay byte-identical to upstream's.
pub fn tracing_init() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .try_init();
    }
}
