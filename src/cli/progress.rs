//! Progress of long batch work on a terminal (objects done, exports per
//! second); nothing when stderr is not a terminal.

use std::io::IsTerminal;
use std::time::Instant;

pub(crate) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    exports: std::sync::atomic::AtomicU64,
    start: Instant,
}

impl Progress {
    pub fn new(total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new(total);
            b.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} objects {msg} [{elapsed}]")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        });
        Progress { bar, exports: 0.into(), start: Instant::now() }
    }

    pub fn tick(&self, exports: u64) {
        let total = self.exports.fetch_add(exports, std::sync::atomic::Ordering::Relaxed) + exports;
        if let Some(b) = &self.bar {
            let rate = total as f64 / self.start.elapsed().as_secs_f64().max(1e-3);
            b.set_message(format!("{total} exports, {rate:.0}/s"));
            b.inc(1);
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
