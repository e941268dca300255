//! Unit renderings shared by content, across objects and revisions.
//!
//! A unit's rendering (its type-map offers and its symbols' texts) depends
//! only on the unit's DIEs, the DIEs its matched symbols start from and the
//! options (see `units.rs`), never on the object around it or on the order
//! objects are processed in. So it can be keyed by that content: a kbuild
//! `.o` and the `.ko` or `vmlinux.o` linked from it hold the same unit, and
//! a relinked vmlinux holds thousands of units that did not change. The key
//! is a 128-bit hash of the unit as read ([`UnitWindow::content`]), the
//! jobs and the flags; the value is a pure function of what the key hashes,
//! so whether a unit is found here or rendered again cannot change output.
//!
//! Texts are interned: the same `struct` is offered, with the same text, by
//! most units that reach it. Memory is bounded by a budget; past it the
//! cache starts over (a cleared cache only costs rendering again).

use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;
use twox_hash::XxHash3_128;

use crate::dies::{DieIdx, UnitWindow};
use crate::render::{self, Job};
use crate::typemap::{self, Expansion};

/// A unit's content key.
pub type UnitKey = u128;

/// What rendering one unit produced, with DIE indices relative to the
/// unit's first DIE.
#[derive(Debug, Default)]
pub struct Rendered {
    /// Per type name, the unit's first longest text.
    pub offers: Vec<(Vec<u8>, Arc<Expansion>)>,
    /// Each symbol entry's text, by its DIE (relative).
    pub symbols: Vec<(DieIdx, Expansion)>,
}

/// Counts of lookups, for tests and `--stats`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Units found rendered.
    pub hits: u64,
    /// Units looked up and not found (then rendered, and stored unless
    /// rendering failed).
    pub misses: u64,
    /// Times the budget was reached and the cache started over.
    pub resets: u64,
    /// Bytes held now (as counted against the budget).
    pub bytes: u64,
}

/// Unit renderings by content key, shared by every database handed the
/// same cache (see `db::Database::sharing_renders`).
pub struct UnitCache {
    inner: Mutex<Inner>,
    budget: usize,
    min_units: u32,
}

#[derive(Default)]
struct Inner {
    units: FxHashMap<UnitKey, Arc<Rendered>>,
    /// Interned offers by hash of name and text.
    texts: FxHashMap<u128, Arc<Expansion>>,
    bytes: usize,
    stats: Stats,
}

/// Bytes of memory a cache holds before it starts over, unless told.
pub const DEFAULT_BUDGET: usize = 512 << 20;

impl Default for UnitCache {
    fn default() -> Self {
        UnitCache::with_budget(DEFAULT_BUDGET)
    }
}

impl std::fmt::Debug for UnitCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UnitCache({:?})", self.stats())
    }
}

impl UnitCache {
    pub fn with_budget(budget: usize) -> UnitCache {
        UnitCache { inner: Mutex::new(Inner::default()), budget, min_units: 1 }
    }

    /// Only objects with at least `n` units use the cache. A watcher sets
    /// it: there, what repeats is a rewritten object's unchanged units, and
    /// a one-unit object rewritten has changed its one unit (unless only a
    /// function body changed), while keeping every module's units would
    /// cost more memory than the rest of the watcher.
    pub fn for_objects_with_units(mut self, n: u32) -> UnitCache {
        self.min_units = n;
        self
    }

    /// Whether an object of `units` units uses the cache.
    pub fn serves(&self, units: u32) -> bool {
        units >= self.min_units
    }

    pub fn stats(&self) -> Stats {
        self.inner.lock().map(|i| Stats { bytes: i.bytes as u64, ..i.stats }).unwrap_or_default()
    }

    /// The key of rendering `jobs` in `window` with these flags; `None`
    /// when the unit cannot be shared (it failed to read).
    pub fn key(
        window: &UnitWindow<'_>,
        jobs: &[Job],
        flags: render::Flags,
        tflags: &typemap::Flags,
        out: &mut KeyWriter,
    ) -> Option<UnitKey> {
        out.start();
        out.bytes(&[
            flags.stable as u8,
            flags.debug as u8,
            flags.dump_dies as u8,
            flags.dump_die_map as u8,
            tflags.stable as u8,
            tflags.dump_types as u8,
            tflags.dump_versions as u8,
            tflags.symtypes as u8,
        ]);
        let base = window.base();
        out.u32(jobs.len() as u32);
        for j in jobs {
            out.u32(j.die.wrapping_sub(base));
            out.bytes(&[j.subprogram as u8]);
        }
        if !window.content(out) {
            return None;
        }
        Some(out.finish())
    }

    pub fn get(&self, key: UnitKey) -> Option<Arc<Rendered>> {
        let mut inner = self.inner.lock().ok()?;
        let found = inner.units.get(&key).cloned();
        match found {
            Some(_) => inner.stats.hits += 1,
            None => inner.stats.misses += 1,
        }
        found
    }

    /// Stores a unit's rendering, interning its texts; returns it as
    /// stored (texts shared with earlier units where equal).
    pub fn put(&self, key: UnitKey, mut rendered: Rendered) -> Arc<Rendered> {
        // Hashed before locking: other workers look units up meanwhile.
        let hashes: Vec<u128> = rendered.offers.iter().map(|(name, exp)| text_key(name, exp)).collect();
        let Ok(mut inner) = self.inner.lock() else { return Arc::new(rendered) };
        let inner = &mut *inner;
        let mut added = std::mem::size_of::<Rendered>() + 64;
        for ((name, exp), h) in rendered.offers.iter_mut().zip(hashes) {
            added += name.len() + std::mem::size_of::<(Vec<u8>, Arc<Expansion>)>();
            match inner.texts.get(&h) {
                Some(shared) => *exp = shared.clone(),
                None => {
                    // The Arc, its text and item ends (three blocks) and
                    // the map slot.
                    added += exp.size() + 96;
                    inner.texts.insert(h, exp.clone());
                }
            }
        }
        for (_, exp) in &rendered.symbols {
            added += exp.size() + std::mem::size_of::<(DieIdx, Expansion)>();
        }
        if inner.bytes + added > self.budget {
            inner.units.clear();
            inner.texts.clear();
            inner.bytes = 0;
            inner.stats.resets += 1;
        }
        inner.bytes += added;
        let rendered = Arc::new(rendered);
        inner.units.insert(key, rendered.clone());
        rendered
    }
}

/// Hashes a key's bytes as they are written, through a small buffer: a
/// unit is megabytes, and the hasher is fastest fed in large blocks.
pub struct KeyWriter {
    buf: Vec<u8>,
    hasher: XxHash3_128,
}

const KEY_BLOCK: usize = 64 << 10;

impl Default for KeyWriter {
    fn default() -> Self {
        // The buffer is allocated by the first key: most writers (no
        // cache) never write one.
        KeyWriter { buf: Vec::new(), hasher: XxHash3_128::new() }
    }
}

impl KeyWriter {
    fn start(&mut self) {
        self.buf.clear();
        self.buf.reserve(KEY_BLOCK);
        self.hasher = XxHash3_128::new();
    }

    #[inline]
    pub fn bytes(&mut self, s: &[u8]) {
        if self.buf.len() + s.len() > KEY_BLOCK {
            self.hasher.write(&self.buf);
            self.buf.clear();
            if s.len() > KEY_BLOCK {
                self.hasher.write(s);
                return;
            }
        }
        self.buf.extend_from_slice(s);
    }

    #[inline]
    pub fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }

    fn finish(&mut self) -> UnitKey {
        self.hasher.write(&self.buf);
        self.buf.clear();
        self.hasher.finish_128()
    }
}

fn text_key(name: &[u8], exp: &Expansion) -> u128 {
    let mut h = XxHash3_128::new();
    h.write(&(name.len() as u64).to_le_bytes());
    h.write(name);
    exp.hash_into(&mut h);
    h.finish_128()
}
