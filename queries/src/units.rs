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
use std::sync::Mutex;

use rustc_hash::FxHashMap;

use crate::dies::{DieIdx, Dies, UnitWindow};
use crate::error::Error;
use crate::kabi::Rules;
use crate::log::Log;
use crate::render::{self, Job, Renderer};
use crate::symbols::SymbolTable;
use crate::typemap::{self, Expansion, TypeMap};

struct Task<'a> {
    unit: u32,
    window: UnitWindow<'a>,
    jobs: Vec<Job>,
    /// Matching failed after planning `jobs`.
    plan_error: Option<Error>,
}

struct Done {
    /// Per type name, the unit's first longest text.
    offers: FxHashMap<Vec<u8>, Expansion>,
    symbols: Vec<(DieIdx, Expansion)>,
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
) -> Result<Outcome, Error> {
    let units = dies.unit_count();
    let results: Vec<Mutex<Option<Done>>> = (0..units).map(|_| Mutex::new(None)).collect();
    let (tx, rx) = sync_channel::<Task<'a>>(threads * 2);
    let rx = Mutex::new(rx);
    let mut merged = 0u32;
    let mut first_error: Option<Error> = None;
    let mut merge = |done: Done, map: &mut TypeMap, first_error: &mut Option<Error>| {
        if first_error.is_some() {
            return;
        }
        // Upstream's order within a unit: a job fails while rendering,
        // before matching goes on; offering comes after both.
        if let Some(e) = done.render_error.or(done.plan_error).or(done.offer_error) {
            *first_error = Some(e);
            return;
        }
        let mut log = Log::new(false);
        for (name, exp) in done.offers {
            map.add(&name, exp, tflags, &mut log);
        }
        symbol_texts.extend(done.symbols);
    };

    let outcome = std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let task = match rx.lock() {
                    Ok(rx) => match rx.recv() {
                        Ok(t) => t,
                        Err(_) => break,
                    },
                    Err(_) => break,
                };
                let unit = task.unit;
                let done = render_one(task, rules, flags, tflags, obj);
                if let Ok(mut slot) = results[unit as usize].lock() {
                    *slot = Some(done);
                }
            });
        }

        let mut log = Log::new(false);
        let mut planner = Renderer::new(dies, rules, flags, obj, (0, 0), &mut log).planning();
        let mut outcome = Outcome::Done;
        for k in 0..units {
            let matched = planner.process_unit(k, table);
            if planner.dies.is_whole() {
                outcome = Outcome::NeedsAllUnits;
                break;
            }
            let jobs = planner.take_plan();
            let window = planner.dies.take_window();
            let plan_error = matched.err();
            let stop = plan_error.is_some();
            if tx.send(Task { unit: k, window, jobs, plan_error }).is_err() {
                break;
            }
            // Merge what is finished, in order, to keep memory bounded.
            while merged < units {
                let Some(done) = results[merged as usize].lock().ok().and_then(|mut s| s.take()) else { break };
                merge(done, map, &mut first_error);
                merged += 1;
            }
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
    while merged < units {
        let Some(done) = results[merged as usize].lock().ok().and_then(|mut s| s.take()) else { break };
        merge(done, map, &mut first_error);
        merged += 1;
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(Outcome::Done),
    }
}

fn render_one(task: Task<'_>, rules: &Rules, flags: render::Flags, tflags: &typemap::Flags, obj: u32) -> Done {
    let mut dies = Dies::from_window(task.window);
    let mut log = Log::new(false);
    let mut r = Renderer::new(&mut dies, rules, flags, obj, (0, 0), &mut log);
    let mut done = Done {
        offers: FxHashMap::default(),
        symbols: Vec::new(),
        render_error: None,
        plan_error: task.plan_error,
        offer_error: None,
    };
    if let Err((_, e)) = r.render_jobs(task.unit, &task.jobs) {
        done.render_error = Some(e);
        return done;
    }
    let offers = &mut done.offers;
    match typemap::offer_entries(&mut r, rules, tflags, &mut |name, exp, _| match offers.get_mut(name) {
        Some(old) if old.text.len() >= exp.text.len() => {}
        Some(old) => *old = exp,
        None => {
            offers.insert(name.to_vec(), exp);
        }
    }) {
        Ok(symbols) => done.symbols = symbols,
        Err(e) => done.offer_error = Some(e),
    }
    done
}
