//! Finished cache entries by (DIE, state): upstream's `die_map`.
//!
//! A unit's DIEs have dense indices, so the two states most entries take
//! (unexpanded, complete) are a slot per loaded DIE instead of a hash
//! table: a lookup is an index, not a hash and a probe. On mm/vmscan.o
//! that is about 27,000 lookups and insertions per run. Symbol entries,
//! a few per unit, stay in a hash table.

use rustc_hash::FxHashMap as HashMap;

use super::{EntryId, State};
use crate::dies::DieIdx;

#[derive(Default)]
pub struct Slots {
    base: DieIdx,
    /// Per DIE from `base`: its newest unexpanded and complete entries,
    /// each as id + 1 (0 for none), so that a fresh table is zeroed
    /// memory.
    dense: Vec<[u32; 2]>,
    symbols: HashMap<DieIdx, EntryId>,
}

/// The states kept in `dense`, by column.
const COLUMNS: [State; 2] = [State::Unexpanded, State::Complete];

fn column(state: State) -> Option<usize> {
    COLUMNS.iter().position(|&s| s == state)
}

impl Slots {
    /// Forgets every entry and makes room for the DIEs `dies` (more are
    /// taken as they come).
    pub fn reset(&mut self, dies: std::ops::Range<DieIdx>) {
        self.base = dies.start;
        self.dense = vec![[0; 2]; dies.len()];
        self.symbols.clear();
    }

    pub fn clear(&mut self) {
        self.dense.clear();
        self.symbols.clear();
    }

    #[inline]
    pub fn get(&self, die: DieIdx, state: State) -> Option<EntryId> {
        match column(state) {
            Some(c) => self.dense.get(die.wrapping_sub(self.base) as usize)?[c].checked_sub(1),
            None if state == State::Symbol => self.symbols.get(&die).copied(),
            None => None,
        }
    }

    /// Records `id` for (die, state) unless a newer entry is there: the
    /// newest-created one wins, as in upstream's head-inserted hash chains.
    pub fn insert(&mut self, die: DieIdx, state: State, id: EntryId) {
        let Some(c) = column(state) else {
            let slot = self.symbols.entry(die).or_insert(id);
            *slot = (*slot).max(id);
            return;
        };
        let i = self.index(die);
        let slot = &mut self.dense[i][c];
        *slot = (*slot).max(id + 1);
    }

    /// The slot of `die`, growing the table to reach it (a DIE outside the
    /// range given to `reset`: every unit loaded at once).
    fn index(&mut self, die: DieIdx) -> usize {
        if self.dense.is_empty() {
            self.base = die;
        }
        if die < self.base {
            let more = (self.base - die) as usize;
            self.dense.splice(0..0, std::iter::repeat_n([0; 2], more));
            self.base = die;
        }
        let i = (die - self.base) as usize;
        if i >= self.dense.len() {
            self.dense.resize(i + 1, [0; 2]);
        }
        i
    }

    /// Every finished entry, as (DIE, state, entry), in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (DieIdx, State, EntryId)> + '_ {
        let dense = self.dense.iter().enumerate().flat_map(move |(i, s)| {
            let die = self.base + i as DieIdx;
            (0..2).filter(move |&c| s[c] != 0).map(move |c| (die, COLUMNS[c], s[c] - 1))
        });
        dense.chain(self.symbols.iter().map(|(&die, &id)| (die, State::Symbol, id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(s: &Slots) -> Vec<(DieIdx, State, EntryId)> {
        let mut v: Vec<_> = s.iter().collect();
        v.sort();
        v
    }

    #[test]
    fn newest_entry_wins_per_state() {
        let mut s = Slots::default();
        s.reset(10..20);
        s.insert(12, State::Complete, 5);
        s.insert(12, State::Complete, 3);
        s.insert(12, State::Unexpanded, 0);
        s.insert(15, State::Symbol, 7);
        s.insert(15, State::Symbol, 9);
        assert_eq!(s.get(12, State::Complete), Some(5));
        assert_eq!(s.get(12, State::Unexpanded), Some(0));
        assert_eq!(s.get(12, State::Incomplete), None);
        assert_eq!(s.get(13, State::Complete), None);
        assert_eq!(s.get(15, State::Symbol), Some(9));
        assert_eq!(sorted(&s), vec![(12, State::Unexpanded, 0), (12, State::Complete, 5), (15, State::Symbol, 9)]);
    }

    #[test]
    fn grows_to_dies_outside_the_range() {
        let mut s = Slots::default();
        s.reset(10..12);
        s.insert(11, State::Complete, 1);
        s.insert(4, State::Unexpanded, 2);
        s.insert(30, State::Complete, 3);
        assert_eq!(s.get(4, State::Unexpanded), Some(2));
        assert_eq!(s.get(11, State::Complete), Some(1));
        assert_eq!(s.get(30, State::Complete), Some(3));
        assert_eq!(s.get(3, State::Complete), None);
        assert_eq!(s.get(31, State::Complete), None);
        s.clear();
        assert_eq!(s.get(11, State::Complete), None);
        s.insert(100, State::Complete, 4);
        assert_eq!(sorted(&s), vec![(100, State::Complete, 4)]);
    }
}
