//! `dwarfksyms diff` output: text for people, JSON lines for tools (and
//! the server's `explain` answers).

use std::fmt::Write as _;

use queries::typediff::{Change, Via};
use serde::{Serialize, Serializer};

use super::{Affected, Lone, Outcome, RootCause, Step, Unexplained};

fn crc(c: Option<u32>) -> String {
    match c {
        Some(c) => format!("0x{c:08x}"),
        None => "(none)".into(),
    }
}

/// `struct dx_stats`, `typedef dx_id_t`, `the exported function itself`:
/// the type `name` whose symtypes text is `text`, in words.
pub(super) fn describe(name: &str, text: Option<&str>) -> String {
    let kind = text.unwrap_or("").split(' ').next().unwrap_or("");
    let bare = || {
        let n = name.get(2..).unwrap_or(name);
        n.strip_prefix('\'').and_then(|n| n.strip_suffix('\'')).unwrap_or(n).to_string()
    };
    let c = match kind {
        "structure_type" => "struct",
        "class_type" => "class",
        "union_type" => "union",
        "enumeration_type" => "enum",
        "typedef_type" => "typedef",
        "subprogram" => return "the exported function itself".into(),
        "variable" => return "the exported variable itself".into(),
        _ => return "type".into(),
    };
    format!("{c} {}", bare())
}

fn modules(r: &RootCause) -> String {
    const SHOW: usize = 4;
    let m: Vec<&str> = r.modules.iter().map(String::as_str).collect();
    if m.len() <= SHOW {
        m.join(", ")
    } else {
        format!("{} and {} more", m[..SHOW].join(", "), m.len() - SHOW)
    }
}

fn or_none(s: &Option<String>) -> &str {
    match s.as_deref() {
        Some("") => "(nothing)",
        Some(s) => s,
        None => "(none)",
    }
}

fn change_line(c: &Change) -> String {
    let what = if c.name.is_empty() { c.item.to_string() } else { format!("{} {}", c.item, c.name) };
    match c.change {
        "added" | "removed" if c.item == "enumerator" => {
            let v = if c.change == "added" { &c.new } else { &c.old };
            format!("{} {what} = {}", c.change, or_none(v))
        }
        "added" => format!("added {what}: {}", or_none(&c.new)),
        "removed" => format!("removed {what}: {}", or_none(&c.old)),
        "renamed" => format!(
            "renamed {}: {} -> {}",
            c.item,
            c.old.as_deref().unwrap_or("(unnamed)"),
            c.new.as_deref().unwrap_or("(unnamed)")
        ),
        "value" => format!("changed value of {what}: {} -> {}", or_none(&c.old), or_none(&c.new)),
        "changed" if c.item == "attribute" => format!("changed {}: {} -> {}", c.name, or_none(&c.old), or_none(&c.new)),
        "declared" => format!("now declared only (was defined with {})", or_none(&c.old)),
        "defined" => format!("now defined with {} (was declared only)", or_none(&c.new)),
        "redefined" => format!("redefined:\n      old: {}\n      new: {}", or_none(&c.old), or_none(&c.new)),
        _ => format!("{} {what}: {} -> {}", c.change, or_none(&c.old), or_none(&c.new)),
    }
}

/// `dx_open (parameter dev) -> s#dx_device (member stats) -> s#dx_stats`
pub(crate) fn path_text(path: &[Step]) -> String {
    let mut s = String::new();
    for (i, step) in path.iter().enumerate() {
        if i > 0 {
            s.push_str(" -> ");
        }
        s.push_str(&step.name);
        if let Some(v) = &step.via {
            let _ = write!(s, " ({v})");
        }
    }
    s
}

fn export_line(a: &Affected, show_module: bool) -> String {
    let mut s = format!("{} {} -> {}", a.symbol, crc(a.old_crc), crc(a.new_crc));
    match &a.old_module {
        Some(m) => {
            let _ = write!(s, " (moved from {m} to {})", a.module);
        }
        None if show_module => {
            let _ = write!(s, " ({})", a.module);
        }
        None => {}
    }
    s
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// How many members of a run of moved ones are shown (the JSON has all).
const MOVED_SHOWN: usize = 3;

fn write_changes(s: &mut String, changes: &[Change]) {
    let mut i = 0;
    while i < changes.len() {
        let run = changes[i..].iter().take_while(|c| c.change == "moved").count();
        if run > MOVED_SHOWN + 1 {
            for c in &changes[i..i + MOVED_SHOWN] {
                let _ = writeln!(s, "  {}", change_line(c));
            }
            let _ = writeln!(s, "  ... and {} more moved", run - MOVED_SHOWN);
            i += run;
            continue;
        }
        let _ = writeln!(s, "  {}", change_line(&changes[i]));
        i += 1;
    }
}

pub(crate) fn text(o: &Outcome) -> String {
    let mut s = String::new();
    for r in &o.roots {
        let _ = writeln!(s, "{} ({}) changed in {}:", r.name, r.what, modules(r));
        write_changes(&mut s, &r.changes);
        let _ = writeln!(s, "  changes the CRC of {}:", plural(r.exports.len(), "export", "exports"));
        let many = r.modules.len() > 1;
        for a in &r.exports {
            let _ = writeln!(s, "    {}", export_line(a, many));
            if a.path.len() > 1 {
                let _ = writeln!(s, "      {}", path_text(&a.path));
            }
        }
        s.push('\n');
    }
    if !o.unexplained.is_empty() {
        let _ = writeln!(s, "changed without a type change to show:");
        for u in &o.unexplained {
            let _ = writeln!(s, "  {} ({}): {}", export_line(&u.affected, false), u.affected.module, u.reason);
        }
        s.push('\n');
    }
    for (title, list) in [("added exports:", &o.added), ("removed exports:", &o.removed)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(s, "{title}");
        for l in list {
            let _ = writeln!(s, "  {} {} ({})", l.symbol, crc(l.crc), l.module);
        }
        s.push('\n');
    }
    let _ = write!(s, "{} compared: ", plural(o.compared, "export", "exports"));
    if o.changed == 0 {
        s.push_str("no CRC changed");
    } else {
        let _ = write!(s, "{} changed ({})", o.changed, plural(o.roots.len(), "root cause", "root causes"));
    }
    let _ = writeln!(s, ", {} added, {} removed", o.added.len(), o.removed.len());
    s
}

// JSON: each event a struct whose fields serialize in the order declared
// (serde_json's own maps sort keys). The server answers with the same
// structs as values.

/// One line of `--format json`, named by its first field.
#[derive(Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum Event<'o> {
    RootCause(&'o RootCause),
    Unexplained(&'o Unexplained),
    Added(&'o Lone),
    Removed(&'o Lone),
    Summary(Summary),
}

#[derive(Serialize)]
struct Summary {
    compared: usize,
    changed: usize,
    root_causes: usize,
    added: usize,
    removed: usize,
    unexplained: usize,
}

/// A CRC as JSON shows it; `None` (no version) is `null`.
pub(super) fn hex<S: Serializer>(c: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
    c.map(|c| format!("0x{c:08x}")).serialize(s)
}

/// How a chain's next type is reached, as the text report says it.
pub(super) fn via<S: Serializer>(v: &Option<Via>, s: S) -> Result<S::Ok, S::Error> {
    v.as_ref().map(ToString::to_string).serialize(s)
}

pub(crate) fn json(o: &Outcome) -> String {
    let events = o
        .roots
        .iter()
        .map(Event::RootCause)
        .chain(o.unexplained.iter().map(Event::Unexplained))
        .chain(o.added.iter().map(Event::Added))
        .chain(o.removed.iter().map(Event::Removed))
        .chain([Event::Summary(Summary {
            compared: o.compared,
            changed: o.changed,
            root_causes: o.roots.len(),
            added: o.added.len(),
            removed: o.removed.len(),
            unexplained: o.unexplained.len(),
        })]);
    let mut s = String::new();
    for e in events {
        // Structs of strings, options and numbers: nothing fails to serialize.
        if let Ok(line) = serde_json::to_string(&e) {
            let _ = writeln!(s, "{line}");
        }
    }
    s
}
