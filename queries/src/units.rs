//! One large object's units on several threads (a kernel image has
//! thousands of them).
//!
//! Upstream's pass over a unit is two things: matching exported symbols
//! to DIEs, which reads and updates the run's symbol table and so must go
//! in order, and rendering the matched DIEs, which depends only on that
//! unit (its cache entries are never reached from another unit when no
//! reference crosses units). So this thread matches unit after unit and
//! hands each unit's DIEs and jobs to workers; their type-map offers are
//! merged back in unit order, which is the order the one-thread path
//! offers them in. Used only when nothing observes the rendering order
//! (no `--debug`, no dumps).

use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;

use crate::dies::{DieIdx, Dies, UnitWindow};
use crate::error::Error;
use crate::kabi::Rules;
use crate::log::Log;
use crate::render::{self, Job, Renderer};
use crate::symbols::SymbolTable;
use crate::typemap::{self, Expansion, TypeMap};
use crate::unitcache::{KeyWriter, Rendered, UnitCache};

struct Task<'a> {
    unit: u32,
    window: UnitWindow<'a>,
    jobs: Vec<Job>,
    /// Matching failed after planning `jobs`.
    plan_error: Option<Error>,
}

struct Done {
    rendered: Arc<Rendered>,
    /// The unit's first DIE (`rendered` is relative to it).
    base: DieIdx,
    render_error: Option<Error>,
    plan_error: Option<Error>,
    offer_error: Option<Error>,
}

/// What [`render_units`] did.
pub enum Outcome {
    Done,
    /// A reference crossed units: every unit is now loaded and the caller
    /// must start over, one thread, from the symbol table as it was.
    NeedsAllUnits,
}

/// Renders every unit of `dies`, matching symbols on this thread and
/// rendering on `threads` others (on this one when `threads` is 1), and
/// merges what each unit offers into `map` in unit order. With `cache`,
/// a unit whose content was rendered before (in this object or another)
/// is not rendered again.
#[allow(clippy::too_many_arguments)]
pub fn render_units<'a>(
    dies: &mut Dies<'a>,
    rules: &Rules,
    flags: render::Flags,
    tflags: &typemap::Flags,
    obj: u32,
    table: &mut SymbolTable,
    map: &mut TypeMap,
    symbol_texts: &mut FxHashMap<DieIdx, Expansion>,
    threads: usize,
    cache: Option<&UnitCache>,
) -> Result<Outcome, Error> {
    let units = dies.unit_count();
    let mut first_error: Option<Error> = None;
    // Upstream expands types once every unit is done (as
    // `object::process_units`): an error expanding a unit's types waits
    // for the units after it, which may fail first.
    let mut offer_error: Option<Error> = None;
    let mut merge = |done: Done, map: &mut TypeMap, first_error: &mut Option<Error>| {
        if first_error.is_some() {
            return;
        }
        // Upstream's order within a unit: a job fails while rendering,
        // before matching goes on.
        if let Some(e) = done.render_error.or(done.plan_error) {
            *first_error = Some(e);
            return;
        }
        if offer_error.is_some() || done.offer_error.is_some() {
            offer_error = offer_error.take().or(done.offer_error);
            return;
        }
        let mut log = Log::new(false);
        for (name, exp) in &done.rendered.offers {
            map.add(name, exp.clone(), tflags, &mut log);
        }
        symbol_texts.extend(done.rendered.symbols.iter().map(|(d, e)| (d.wrapping_add(done.base), e.clone())));
    };
    let mut log = Log::new(false);
    let mut planner = Renderer::new(dies, rules, flags, obj, (0, 0), &mut log).planning();
    // Matching unit `k`: the task to render, or `None` when every unit had
    // to be loaded.
    let mut plan = |k: u32, table: &mut SymbolTable| -> Option<Task<'a>> {
        let matched = planner.process_unit(k, table);
        if planner.dies.is_whole() {
            return None;
        }
        let jobs = planner.take_plan();
        let window = planner.dies.take_window();
        Some(Task { unit: k, window, jobs, plan_error: matched.err() })
    };

    if threads <= 1 {
        let mut buf = KeyWriter::default();
        for k in 0..units {
            let Some(task) = plan(k, table) else { return Ok(Outcome::NeedsAllUnits) };
            let stop = task.plan_error.is_some();
            merge(render_one(task, rules, flags, tflags, obj, cache, &mut buf), map, &mut first_error);
            if stop || first_error.is_some() {
                break;
            }
        }
    } else {
        let results: Vec<Mutex<Option<Done>>> = (0..units).map(|_| Mutex::new(None)).collect();
        let (tx, rx) = sync_channel::<Task<'a>>(threads * 2);
        let rx = Mutex::new(rx);
        // Merges the finished units that come next in order.
        let mut merged = 0u32;
        let mut drain = |map: &mut TypeMap, first_error: &mut Option<Error>| {
            while merged < units {
                let Some(done) = results[merged as usize].lock().ok().and_then(|mut s| s.take()) else { break };
                merge(done, map, first_error);
                merged += 1;
            }
        };
        let outcome = std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    let mut buf = KeyWriter::default();
                    loop {
                        let task = match rx.lock() {
                            Ok(rx) => match rx.recv() {
                                Ok(t) => t,
                                Err(_) => break,
                            },
                            Err(_) => break,
                        };
                        let unit = task.unit;
                        let done = render_one(task, rules, flags, tflags, obj, cache, &mut buf);
                        if let Ok(mut slot) = results[unit as usize].lock() {
                            *slot = Some(done);
                        }
                    }
                });
            }

            let mut outcome = Outcome::Done;
            for k in 0..units {
                let Some(task) = plan(k, table) else {
                    outcome = Outcome::NeedsAllUnits;
                    break;
                };
                let stop = task.plan_error.is_some();
                if tx.send(task).is_err() {
                    break;
                }
                // Merge what is finished, in order, to keep memory bounded.
                drain(map, &mut first_error);
                if stop {
                    break;
                }
            }
            drop(tx);
            outcome
        });
        if let Outcome::NeedsAllUnits = outcome {
            return Ok(outcome);
        }
        drain(map, &mut first_error);
    }
    match first_error.or(offer_error) {
        Some(e) => Err(e),
        None => Ok(Outcome::Done),
    }
}

fn render_one(
    task: Task<'_>,
    rules: &Rules,
    flags: render::Flags,
    tflags: &typemap::Flags,
    obj: u32,
    cache: Option<&UnitCache>,
    buf: &mut KeyWriter,
) -> Done {
    let base = task.window.base();
    let mut done =
        Done { rendered: Arc::default(), base, render_error: None, plan_error: task.plan_error, offer_error: None };
    if task.jobs.is_empty() {
        // Nothing matched: nothing to render or offer.
        return done;
    }
    let key = cache.and_then(|_| UnitCache::key(&task.window, &task.jobs, flags, tflags, buf));
    if let (Some(cache), Some(key)) = (cache, key) {
        if let Some(found) = cache.get(key) {
            done.rendered = found;
            return done;
        }
    }
    let _span = tracing::trace_span!("render_unit", unit = task.unit).entered();
    let mut dies = Dies::from_window(task.window);
    let mut log = Log::new(false);
    let mut r = Renderer::new(&mut dies, rules, flags, obj, (0, 0), &mut log);
    if let Err((_, e)) = r.render_jobs(task.unit, &task.jobs) {
        done.render_error = Some(e);
        return done;
    }
    let mut offers: FxHashMap<Vec<u8>, Expansion> = FxHashMap::default();
    let symbols = match typemap::offer_entries(&mut r, rules, tflags, &mut |name, exp, _| match offers.get_mut(name) {
        Some(old) if old.text.len() >= exp.text.len() => {}
        Some(old) => *old = exp,
        None => {
            offers.insert(name.to_vec(), exp);
        }
    }) {
        Ok(symbols) => symbols,
        Err(e) => {
            done.offer_error = Some(e);
            return done;
        }
    };
    let rendered = Rendered {
        offers: offers.into_iter().map(|(n, e)| (n, Arc::new(e))).collect(),
        symbols: symbols.into_iter().map(|(d, e)| (d.wrapping_sub(base), e)).collect(),
    };
    done.rendered = match (cache, key) {
        (Some(cache), Some(key)) if done.plan_error.is_none() => cache.put(key, rendered),
        _ => Arc::new(rendered),
    };
    done
}
