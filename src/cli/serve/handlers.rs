//! The requests: what an export's version is made of, which exports a type
//! reaches, why a version differs between two objects, exported names.
//!
//! Everything is read from the watch loop's database through the engine's
//! memoized queries (`export_versions`, `type_graph`), so an answer reflects
//! the objects as the watcher last read them.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use lsp_server::ErrorCode;
use lsp_types::{Location, Position, Range, SymbolInformation, SymbolKind, Url, WorkspaceSymbolParams};
use queries::db::{self, ObjectFile, Versioned};
use queries::typediff;
use queries::typegraph::{self, TypeGraph, UNREACHED};
use serde_json::{json, Value};

use super::server::Server;
use crate::cli::crc_text;
use crate::cli::diff::{self, lossy, report};
use crate::cli::discover::Found;
use crate::cli::watch::{Tracked, Watch};

/// A request's error answer.
pub(crate) struct Failure {
    pub code: ErrorCode,
    pub message: String,
}

impl Failure {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Failure {
        Failure { code, message: message.into() }
    }
}

fn invalid(message: impl Into<String>) -> Failure {
    Failure::new(ErrorCode::InvalidParams, message)
}

/// A string parameter of a request's params object.
fn str_param<'v>(params: &'v Value, key: &str) -> Result<&'v str, Failure> {
    params.get(key).and_then(Value::as_str).ok_or_else(|| invalid(format!("params.{key}: a string is required")))
}

fn opt_str_param<'v>(params: &'v Value, key: &str) -> Result<Option<&'v str>, Failure> {
    match params.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(format!("params.{key}: a string is expected"))),
    }
}

/// The loop's state as one request sees it.
pub(crate) struct View<'a> {
    pub w: &'a Watch,
    pub server: &'a Server,
}

/// An object exporting a symbol, and the version it has there.
pub(crate) struct Exporter<'a> {
    pub path: &'a PathBuf,
    pub obj: ObjectFile,
    pub crc: Option<u32>,
}

impl<'a> View<'a> {
    /// `p` as the client may name it (relative to our directory, or
    /// absolute), made absolute for comparisons.
    fn abs(&self, p: &Path) -> PathBuf {
        self.server.cwd.join(p)
    }

    /// Whether object `shown` is `given` or under it.
    fn under(&self, shown: &Path, given: &Path) -> bool {
        self.abs(shown).starts_with(self.abs(given))
    }

    pub fn graph(&self, obj: ObjectFile) -> Option<Arc<TypeGraph>> {
        typegraph::type_graph(&self.w.db, obj, self.w.options).as_ref().ok().cloned()
    }

    fn versioned(&self, obj: ObjectFile, name: &[u8]) -> Option<Versioned> {
        let v = db::export_versions(&self.w.db, obj, self.w.options).as_ref().ok()?;
        v.exports.iter().find(|x| x.export.name == name).cloned()
    }

    /// The objects exporting `name` (under `within`, if given), by path.
    pub fn exporters(&self, name: &[u8], within: Option<&Path>) -> Vec<Exporter<'a>> {
        let objects: &'a _ = &self.w.objects;
        objects
            .iter()
            .filter(|(p, _)| within.is_none_or(|w| self.under(p, w)))
            .filter_map(|(path, t): (&'a PathBuf, &'a Tracked)| {
                let crc = *t.reported.as_ref()?.get(name)?;
                Some(Exporter { path, obj: t.obj?, crc })
            })
            .collect()
    }

    /// `dwarfksyms/symbol {name, object?}`.
    pub fn symbol(&self, params: Value) -> Result<Value, Failure> {
        let name = str_param(&params, "name")?;
        let within = opt_str_param(&params, "object")?.map(PathBuf::from);
        let found = self.exporters(name.as_bytes(), within.as_deref());
        let Some(first) = found.first() else { return Ok(Value::Null) };
        let versions: Vec<Value> = found
            .iter()
            .map(|e| {
                let x = self.versioned(e.obj, name.as_bytes());
                json!({
                    "object": e.path.display().to_string(),
                    "crc": crc_text(e.crc),
                    "license": x.as_ref().map(|x| if x.export.gpl { "GPL" } else { "" }),
                    "namespace": x.as_ref().map(|x| lossy(&x.export.namespace)),
                })
            })
            .collect();
        let graph = self.graph(first.obj);
        let (type_string, symtypes) = match (&graph, first.crc) {
            (Some(g), Some(_)) => {
                let expanded = g.expansion(name.as_bytes()).ok().map(|(_, t)| lossy(&t));
                let lines: Vec<String> = g.used_lines(name.as_bytes()).iter().map(|l| lossy(l)).collect();
                (expanded, lines)
            }
            _ => (None, Vec::new()),
        };
        Ok(json!({
            "name": name,
            "crc": crc_text(first.crc),
            "object": first.path.display().to_string(),
            "objects": found.iter().map(|e| e.path.display().to_string()).collect::<Vec<_>>(),
            "versions": versions,
            "typeString": type_string,
            "symtypes": symtypes,
        }))
    }

    /// `dwarfksyms/dependents {type, object?}`: every export whose version
    /// reaches the type, with a shortest way to it.
    pub fn dependents(&self, params: Value) -> Result<Value, Failure> {
        let ty = str_param(&params, "type")?;
        let within = opt_str_param(&params, "object")?.map(PathBuf::from);
        // `task_struct` stands for whichever of s#, u#, e#, t# exists.
        let names: Vec<Vec<u8>> = if ty.contains('#') {
            vec![ty.as_bytes().to_vec()]
        } else {
            ["s#", "u#", "e#", "t#"].iter().map(|p| format!("{p}{ty}").into_bytes()).collect()
        };
        let mut out = Vec::new();
        // Modules share headers: a type's text (and where its references
        // sit) is mostly the same in every object.
        let mut sites = typediff::Sites::default();
        for (path, t) in &self.w.objects {
            // Over a whole kernel this is the slow request: it can be
            // cancelled between objects.
            self.server.checkpoint()?;
            let Some(reported) = &t.reported else { continue };
            if within.as_deref().is_some_and(|w| !self.under(path, w)) {
                continue;
            }
            let Some(g) = t.obj.and_then(|o| self.graph(o)) else { continue };
            let Some(target) = names.iter().find_map(|n| g.find(n)) else { continue };
            let next = g.toward(target);
            for (symbol, crc) in reported {
                let Some(mut i) = g.find(symbol) else { continue };
                if next[i as usize] == UNREACHED {
                    continue;
                }
                let mut steps = Vec::new();
                while i != target {
                    let j = next[i as usize];
                    steps.push(json!({"type": lossy(g.name(i)), "via": sites.via(g.text(i), g.name(j)).map(|v| v.to_string())}));
                    i = j;
                }
                steps.push(json!({"type": lossy(g.name(target)), "via": null}));
                out.push(json!({
                    "symbol": lossy(symbol),
                    "object": path.display().to_string(),
                    "crc": crc_text(*crc),
                    "path": steps,
                }));
            }
        }
        Ok(json!({"type": ty, "count": out.len(), "exports": out}))
    }

    /// `dwarfksyms/explain {name, old, new}`: `dwarfksyms diff` of one
    /// export between the objects exporting it under two paths.
    pub fn explain(&self, params: Value) -> Result<Value, Failure> {
        let name = str_param(&params, "name")?;
        let side = |key: &str| -> Result<(Exporter<'a>, diff::Object), Failure> {
            let given = PathBuf::from(str_param(&params, key)?);
            let e = self
                .exporters(name.as_bytes(), Some(&given))
                .into_iter()
                .next()
                .ok_or_else(|| invalid(format!("{key}: no object under {} exports {name}", given.display())))?;
            let x = self.versioned(e.obj, name.as_bytes()).ok_or_else(|| invalid(format!("{name}: not versioned")))?;
            let types = self.graph(e.obj).unwrap_or_default();
            // One module on both sides: this pair is compared whatever
            // the objects' names.
            let found = Found { module: String::new(), path: e.path.clone() };
            Ok((e, diff::Object { found, exports: vec![x], types }))
        };
        let (old, mut old_obj) = side("old")?;
        let (new, new_obj) = side("new")?;
        old_obj.found.module = new.path.display().to_string();
        let new_obj =
            diff::Object { found: Found { module: new.path.display().to_string(), ..new_obj.found }, ..new_obj };
        let outcome = diff::compare(std::slice::from_ref(&old_obj), std::slice::from_ref(&new_obj));
        // `rootCauses` and `unexplained`: the events `dwarfksyms diff
        // --format json` prints, without their name.
        Ok(json!({
            "name": name,
            "old": {"object": old.path.display().to_string(), "crc": crc_text(old.crc)},
            "new": {"object": new.path.display().to_string(), "crc": crc_text(new.crc)},
            "changed": old.crc != new.crc,
            "rootCauses": outcome.roots,
            "unexplained": outcome.unexplained,
            "report": report::text(&outcome),
        }))
    }

    /// `workspace/symbol`: exported names matching the query (substring,
    /// then in-order letters), best matches first.
    pub fn workspace_symbol(&self, params: WorkspaceSymbolParams) -> Result<Value, Failure> {
        const MAX: usize = 256;
        let query = params.query.to_lowercase();
        // (rank, name, object path, object, CRC)
        type Hit<'h> = (u8, &'h [u8], &'h PathBuf, ObjectFile, Option<u32>);
        let mut hits: Vec<Hit<'_>> = Vec::new();
        for (path, t) in &self.w.objects {
            let (Some(reported), Some(obj)) = (&t.reported, t.obj) else { continue };
            for (name, crc) in reported {
                if let Some(rank) = rank(&query, &lossy(name).to_lowercase()) {
                    hits.push((rank, name, path, obj, *crc));
                }
            }
        }
        hits.sort_by(|a, b| (a.0, a.1.len(), a.1, a.2).cmp(&(b.0, b.1.len(), b.1, b.2)));
        hits.truncate(MAX);
        let symbols: Vec<SymbolInformation> = hits
            .into_iter()
            .filter_map(|(_, name, path, obj, crc)| {
                let uri = Url::from_file_path(self.abs(path)).ok()?;
                let variable =
                    self.graph(obj).and_then(|g| g.get(name).map(|t| t.starts_with(b"variable"))).unwrap_or(false);
                #[allow(deprecated)]
                Some(SymbolInformation {
                    name: lossy(name),
                    kind: if variable { SymbolKind::VARIABLE } else { SymbolKind::FUNCTION },
                    tags: None,
                    deprecated: None,
                    location: Location { uri, range: Range::new(Position::new(0, 0), Position::new(0, 0)) },
                    container_name: Some(format!("{} {}", path.display(), crc_text(crc))),
                })
            })
            .collect();
        serde_json::to_value(symbols).map_err(|e| Failure::new(ErrorCode::InternalError, e.to_string()))
    }
}

/// How well `name` matches `query` (both lower case): 0 equal, 1 prefix,
/// 2 substring, 3 the query's characters in order; `None`: no match.
pub(crate) fn rank(query: &str, name: &str) -> Option<u8> {
    if name == query {
        return Some(0);
    }
    if name.starts_with(query) {
        return Some(1);
    }
    if name.contains(query) {
        return Some(2);
    }
    let mut rest = name.chars();
    query.chars().all(|q| rest.any(|c| c == q)).then_some(3)
}

#[cfg(test)]
mod tests {
    use super::rank;

    #[test]
    fn ranks() {
        assert_eq!(rank("inc_a_open", "inc_a_open"), Some(0));
        assert_eq!(rank("inc_a", "inc_a_open"), Some(1));
        assert_eq!(rank("open", "inc_a_open"), Some(2));
        assert_eq!(rank("iao", "inc_a_open"), Some(3));
        assert_eq!(rank("xyz", "inc_a_open"), None);
    }
}
