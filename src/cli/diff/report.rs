//! `dwarfksyms diff` output: text for people, JSON lines for tools.

use std::fmt::Write as _;

use queries::typediff::Change;

use super::{Affected, Outcome, RootCause, Step};

fn crc(c: Option<u32>) -> String {
    match c {
        Some(c) => format!("0x{c:08x}"),
        None => "(none)".into(),
    }
}

/// `struct dx_stats`, `typedef dx_id_t`, `exported function`.
fn describe(r: &RootCause) -> String {
    let text = r.new_text.as_deref().or(r.old_text.as_deref()).unwrap_or("");
    let kind = text.split(' ').next().unwrap_or("");
    let bare = || {
        let n = r.name.get(2..).unwrap_or(&r.name);
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
        let _ = writeln!(s, "{} ({}) changed in {}:", r.name, describe(r), modules(r));
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

// JSON, with fields in a fixed order (serde_json's maps sort keys).

fn js(v: impl Into<serde_json::Value>) -> String {
    v.into().to_string()
}

fn jcrc(c: Option<u32>) -> String {
    js(c.map(|c| format!("0x{c:08x}")))
}

fn obj(fields: &[(&str, String)]) -> String {
    let mut s = String::from("{");
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{}:{v}", js(*k));
    }
    s.push('}');
    s
}

fn arr(items: impl IntoIterator<Item = String>) -> String {
    format!("[{}]", items.into_iter().collect::<Vec<_>>().join(","))
}

fn affected_json(a: &Affected) -> Vec<(&'static str, String)> {
    let mut f = vec![("symbol", js(a.symbol.as_str())), ("module", js(a.module.as_str()))];
    if let Some(m) = &a.old_module {
        f.push(("old_module", js(m.as_str())));
    }
    f.push(("old", jcrc(a.old_crc)));
    f.push(("new", jcrc(a.new_crc)));
    f
}

pub(crate) fn json(o: &Outcome) -> String {
    let mut s = String::new();
    for r in &o.roots {
        let changes = arr(r.changes.iter().map(|c| {
            obj(&[
                ("change", js(c.change)),
                ("item", js(c.item)),
                ("name", js(c.name.as_str())),
                ("old", js(c.old.clone())),
                ("new", js(c.new.clone())),
            ])
        }));
        let exports = arr(r.exports.iter().map(|a| {
            let mut f = affected_json(a);
            let path = arr(a.path.iter().map(|st| obj(&[("type", js(st.name.as_str())), ("via", js(st.via.as_ref().map(|v| v.to_string())))])));
            f.push(("path", path));
            obj(&f)
        }));
        let line = obj(&[
            ("event", js("root_cause")),
            ("type", js(r.name.as_str())),
            ("what", js(describe(r))),
            ("modules", arr(r.modules.iter().map(|m| js(m.as_str())))),
            ("changes", changes),
            ("old_text", js(r.old_text.clone())),
            ("new_text", js(r.new_text.clone())),
            ("exports", exports),
        ]);
        let _ = writeln!(s, "{line}");
    }
    for u in &o.unexplained {
        let mut f = vec![("event", js("unexplained"))];
        f.extend(affected_json(&u.affected));
        f.push(("reason", js(u.reason.as_str())));
        let _ = writeln!(s, "{}", obj(&f));
    }
    for (event, list) in [("added", &o.added), ("removed", &o.removed)] {
        for l in list {
            let f = [("event", js(event)), ("symbol", js(l.symbol.as_str())), ("module", js(l.module.as_str())), ("crc", jcrc(l.crc))];
            let _ = writeln!(s, "{}", obj(&f));
        }
    }
    let f = [
        ("event", js("summary")),
        ("compared", js(o.compared)),
        ("changed", js(o.changed)),
        ("root_causes", js(o.roots.len())),
        ("added", js(o.added.len())),
        ("removed", js(o.removed.len())),
        ("unexplained", js(o.unexplained.len())),
    ];
    let _ = writeln!(s, "{}", obj(&f));
    s
}
