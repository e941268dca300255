//! Symbol versions: CRC-32 over a symbol's type string with every type
//! reference expanded in place the first time the symbol meets it.
//!
//! This is upstream's `__calculate_version`, run over a compiled form of
//! the type map: each entry becomes a list of segments (a run of plain text,
//! or a reference by number), so expanding a symbol hashes text straight
//! from the entries — no name lookups, no copying into a buffer — and the
//! per-symbol "already expanded" set is a generation-stamped array.

use std::rc::Rc;

use rustc_hash::FxHashMap;

use crate::error::Error;
use crate::kabi::lossy;
use crate::typemap::{is_type_prefix, Expansion};

#[derive(Debug, Clone, Copy)]
enum Seg {
    /// Bytes `start..end` of the arena.
    Text(u32, u32),
    /// A reference to the type with this number.
    Ref(u32),
}

/// Compiled entries of one object's type map, filled lazily.
#[derive(Default)]
pub struct Compiled {
    ids: FxHashMap<Vec<u8>, u32>,
    names: Vec<Vec<u8>>,
    segs: Vec<Option<Rc<[Seg]>>>,
    arena: Vec<u8>,
    seen: Vec<u32>,
    generation: u32,
}

/// Where a reference's text comes from: the type map, or (under
/// `--stable`) a `type_string` rule that adds it to the map.
pub trait Source {
    fn lookup(&mut self, name: &[u8]) -> Result<Option<std::sync::Arc<Expansion>>, Error>;
}

impl Compiled {
    fn id(&mut self, name: &[u8]) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.ids.insert(name.to_vec(), id);
        self.names.push(name.to_vec());
        self.segs.push(None);
        self.seen.push(0);
        id
    }

    /// Forgets the compiled form of `name` (its map entry changed).
    pub fn invalidate(&mut self, name: &[u8]) {
        if let Some(&id) = self.ids.get(name) {
            self.segs[id as usize] = None;
        }
    }

    fn compile(&mut self, exp: &Expansion) -> Rc<[Seg]> {
        let mut segs = Vec::new();
        let mut text_start: Option<u32> = None;
        for item in exp.items() {
            if is_type_prefix(item) {
                if let Some(s) = text_start.take() {
                    segs.push(Seg::Text(s, self.arena.len() as u32));
                }
                let id = self.id(item);
                segs.push(Seg::Ref(id));
            } else {
                text_start.get_or_insert(self.arena.len() as u32);
                self.arena.extend_from_slice(item);
            }
        }
        if let Some(s) = text_start {
            segs.push(Seg::Text(s, self.arena.len() as u32));
        }
        segs.into()
    }

    /// The CRC of `exp` (a symbol's text) and, when `dump` is set, the
    /// expanded string itself (`--dump-versions`).
    pub fn version(&mut self, exp: &Expansion, src: &mut dyn Source, dump: bool) -> Result<(u32, Option<Vec<u8>>), Error> {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            self.seen.iter_mut().for_each(|s| *s = 0);
            self.generation = 1;
        }
        let top = self.compile(exp);
        let mut out = Out::new(dump);
        self.walk(&top, None, src, &mut out, 0)?;
        Ok(out.finish())
    }

    fn walk(&mut self, segs: &[Seg], within: Option<u32>, src: &mut dyn Source, out: &mut Out, depth: u32) -> Result<(), Error> {
        if depth > 4096 {
            return Err(Error::new("__calculate_version", "type nesting too deep".into()));
        }
        for &seg in segs {
            match seg {
                Seg::Text(s, e) => out.add(&self.arena[s as usize..e as usize]),
                Seg::Ref(id) => {
                    if self.seen[id as usize] == self.generation {
                        out.add(&self.names[id as usize]);
                        continue;
                    }
                    let inner = match self.segs[id as usize].clone() {
                        Some(s) => s,
                        None => {
                            let name = self.names[id as usize].clone();
                            let Some(exp) = src.lookup(&name)? else {
                                let within = within
                                    .map(|w| lossy(&self.names[w as usize]).into_owned())
                                    .unwrap_or_else(|| "(null)".into());
                                return Err(Error::new(
                                    "__calculate_version",
                                    format!("unknown type reference to '{}' when expanding '{}'", lossy(&name), within),
                                ));
                            };
                            let s = self.compile(&exp);
                            self.segs[id as usize] = Some(s.clone());
                            s
                        }
                    };
                    self.seen[id as usize] = self.generation;
                    self.walk(&inner, Some(id), src, out, depth + 1)?;
                }
            }
        }
        Ok(())
    }
}

/// The hash (and maybe the text) of an expansion. Segments are short, and
/// CRC-32 is much faster over long runs, so they are gathered in a buffer.
struct Out {
    crc: crc32fast::Hasher,
    buf: Vec<u8>,
    text: Option<Vec<u8>>,
}

const OUT_BUF: usize = 16 << 10;

impl Out {
    fn new(dump: bool) -> Out {
        Out { crc: crc32fast::Hasher::new(), buf: Vec::with_capacity(OUT_BUF), text: dump.then(Vec::new) }
    }

    fn add(&mut self, s: &[u8]) {
        if let Some(t) = &mut self.text {
            t.extend_from_slice(s);
        }
        if self.buf.len() + s.len() > OUT_BUF {
            self.crc.update(&self.buf);
            self.buf.clear();
            if s.len() > OUT_BUF {
                self.crc.update(s);
                return;
            }
        }
        self.buf.extend_from_slice(s);
    }

    fn finish(mut self) -> (u32, Option<Vec<u8>>) {
        self.crc.update(&self.buf);
        (self.crc.finalize(), self.text)
    }
}
