//! Reading type strings back into structure, and comparing two of them.
//!
//! A symtypes line's text (`structure_type foo { member … a … , … } byte_size(8)`,
//! `subprogram ( formal_parameter … ) -> …`, `typedef_type t { … }`) is parsed
//! into a small tree of types and list items (members, parameters,
//! enumerators), so that a front end can say *what* changed between two
//! versions of a type — members added, removed, retyped or moved, enumerator
//! values, a typedef's target — and *where* a reference sits in a type (the
//! member or parameter that leads to it).
//!
//! References are split off exactly as upstream splits a `type_string`
//! ([`Expansion::parse`]: `s#…`, `u#…`, `e#…`, `t#…`, quoted `s#'a b'`);
//! the rest is words separated by spaces, which is how the renderer writes
//! it. The parser is lenient: text it cannot read is kept as an opaque type
//! (`Ty::Other`), never an error, and nesting is depth-limited.

use std::collections::{BTreeSet, HashMap};

use crate::typemap::{is_type_prefix, Expansion};

/// One token of a type string.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    /// A type reference (`s#foo`, `t#'a b'`).
    Ref(String),
    Open(u8),
    Close(u8),
    Comma,
}

impl Tok {
    fn text(&self) -> &str {
        match self {
            Tok::Word(w) | Tok::Ref(w) => w,
            Tok::Open(b'{') => "{",
            Tok::Open(_) => "(",
            Tok::Close(b'}') => "}",
            Tok::Close(_) => ")",
            Tok::Comma => ",",
        }
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn push_words(out: &mut Vec<Tok>, text: &[u8]) {
    for w in text.split(|&b| b == b' ' || b == b'\n' || b == b'\t').filter(|w| !w.is_empty()) {
        out.push(match w {
            b"{" => Tok::Open(b'{'),
            b"(" => Tok::Open(b'('),
            b"}" => Tok::Close(b'}'),
            b")" => Tok::Close(b')'),
            b"," => Tok::Comma,
            _ => Tok::Word(lossy(w)),
        });
    }
}

fn tokenize(text: &[u8]) -> Vec<Tok> {
    let mut out = Vec::new();
    match Expansion::parse(b"", text) {
        Ok(exp) => {
            for item in exp.items() {
                if is_type_prefix(item) {
                    out.push(Tok::Ref(lossy(item)));
                } else {
                    push_words(&mut out, item);
                }
            }
        }
        // A malformed reference (`s#` alone, an unterminated quote): read
        // everything as words.
        Err(_) => push_words(&mut out, text),
    }
    out
}

/// The references a type string contains, in order, each once.
pub fn references(text: &[u8]) -> Vec<Vec<u8>> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    if let Ok(exp) = Expansion::parse(b"", text) {
        for item in exp.items() {
            if is_type_prefix(item) && seen.insert(item.to_vec()) {
                out.push(item.to_vec());
            }
        }
    }
    out
}

/// `byte_size(8)`, `data_member_location(16)`: an attribute word.
fn is_attr(w: &str) -> bool {
    let Some(open) = w.find('(') else { return false };
    open > 0 && w.ends_with(')') && w[..open].bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

fn attr_name(w: &str) -> &str {
    w.split('(').next().unwrap_or(w)
}

/// Attributes that belong to a type (the rest belong to members).
fn is_type_attr(w: &str) -> bool {
    is_attr(w) && matches!(attr_name(w), "byte_size" | "encoding" | "alignment" | "discr_value")
}

/// A parsed type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// A reference to a named type (`s#foo`).
    Ref(String),
    /// `base_type NAME byte_size(N) encoding(N)`.
    Base { name: String, attrs: Vec<String> },
    /// `KIND [NAME] { … } [attrs]`: structs, unions, enums, classes,
    /// variants (body: list items), modifiers, typedefs, arrays (body: one
    /// type).
    Group { kind: String, name: String, body: Vec<Item>, attrs: Vec<String> },
    /// `subprogram ( params ) -> ret`, `subroutine_type ( … ) -> …`.
    Func { kind: String, params: Vec<Item>, ret: Box<Ty> },
    /// `variable TYPE`.
    Variable(Box<Ty>),
    /// Anything else, as text.
    Other(String),
}

/// What a list item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ItemKind {
    Member,
    Parameter,
    Enumerator,
    /// `variant { … } discr_value(N)`, `variant_part { … }` (Rust).
    Variant,
    /// A bare type (a modifier's or typedef's target).
    Type,
}

impl ItemKind {
    pub fn word(self) -> &'static str {
        match self {
            ItemKind::Member => "member",
            ItemKind::Parameter => "parameter",
            ItemKind::Enumerator => "enumerator",
            ItemKind::Variant => "variant",
            ItemKind::Type => "type",
        }
    }
}

/// One element of a `{ … }` or `( … )` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub kind: ItemKind,
    /// Members, parameters, variants and bare types.
    pub ty: Option<Ty>,
    /// Member, parameter or enumerator name.
    pub name: Option<String>,
    /// An enumerator's value.
    pub value: Option<String>,
    /// A member's own attributes (`data_member_location(8)`, `bit_size(3)`).
    pub attrs: Vec<String>,
}

impl Ty {
    /// The type written back as type-string text.
    pub fn text(&self) -> String {
        let mut s = String::new();
        self.write(&mut s);
        s
    }

    fn write(&self, s: &mut String) {
        let mut w = |t: &str| {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(t);
        };
        match self {
            Ty::Ref(n) | Ty::Other(n) => w(n),
            Ty::Base { name, attrs } => {
                w("base_type");
                w(name);
                for a in attrs {
                    w(a);
                }
            }
            Ty::Group { kind, name, body, attrs } => {
                w(kind);
                if !name.is_empty() {
                    w(name);
                }
                w("{");
                write_list(s, body);
                s.push_str(" }");
                for a in attrs {
                    s.push(' ');
                    s.push_str(a);
                }
            }
            Ty::Func { kind, params, ret } => {
                w(kind);
                w("(");
                write_list(s, params);
                s.push_str(" ) -> ");
                s.push_str(&ret.text());
            }
            Ty::Variable(t) => {
                w("variable");
                w(&t.text());
            }
        }
    }

    /// A struct/union/enum/class/variant: the kinds whose body is a list of
    /// members or enumerators.
    pub fn is_aggregate(&self) -> bool {
        matches!(self, Ty::Group { kind, .. } if is_aggregate_kind(kind))
    }
}

/// An anonymous struct, union or variant, also under `const_type` or
/// `volatile_type` (C names its members as if they were the parent's).
fn anonymous_aggregate(ty: &Ty) -> Option<&Ty> {
    match ty {
        Ty::Group { name, .. } if ty.is_aggregate() && name.is_empty() => Some(ty),
        Ty::Group { kind, body, .. } if matches!(kind.as_str(), "const_type" | "volatile_type") && body.len() == 1 => {
            body[0].ty.as_ref().and_then(anonymous_aggregate)
        }
        _ => None,
    }
}

fn is_aggregate_kind(kind: &str) -> bool {
    matches!(kind, "structure_type" | "union_type" | "class_type" | "enumeration_type" | "variant_part" | "variant")
}

fn write_list(s: &mut String, items: &[Item]) {
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            s.push_str(" ,");
        }
        s.push(' ');
        s.push_str(&it.text());
    }
}

impl Item {
    /// The item written back as type-string text.
    pub fn text(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        match self.kind {
            ItemKind::Member => parts.push("member".into()),
            ItemKind::Parameter => parts.push("formal_parameter".into()),
            ItemKind::Enumerator => parts.push("enumerator".into()),
            ItemKind::Variant | ItemKind::Type => {}
        }
        if let Some(t) = &self.ty {
            parts.push(t.text());
        }
        if let Some(n) = &self.name {
            parts.push(n.clone());
        }
        if let Some(v) = &self.value {
            parts.push("=".into());
            parts.push(v.clone());
        }
        parts.extend(self.attrs.iter().cloned());
        parts.join(" ")
    }

    /// The item's type and attributes without its keyword and name
    /// (`base_type int byte_size(4) encoding(5) data_member_location(8)`).
    pub fn body_text(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(t) = &self.ty {
            parts.push(t.text());
        }
        if let Some(v) = &self.value {
            parts.push(v.clone());
        }
        parts.extend(self.attrs.iter().cloned());
        parts.join(" ")
    }

    fn ty_text(&self) -> String {
        self.ty.as_ref().map(Ty::text).unwrap_or_default()
    }
}

const MAX_DEPTH: u32 = 256;

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn peek_word(&self) -> Option<&str> {
        match self.peek() {
            Some(Tok::Word(w)) => Some(w),
            _ => None,
        }
    }

    fn ty(&mut self, depth: u32) -> Ty {
        let Some(tok) = self.peek().cloned() else { return Ty::Other(String::new()) };
        if depth > MAX_DEPTH {
            return self.rest_as_other();
        }
        match tok {
            Tok::Ref(r) => {
                self.pos += 1;
                Ty::Ref(r)
            }
            Tok::Word(w) if w == "base_type" => {
                self.pos += 1;
                let start = self.pos;
                while let Some(w) = self.peek_word() {
                    if is_attr(w) {
                        break;
                    }
                    self.pos += 1;
                }
                if !matches!(self.peek_word(), Some(a) if is_type_attr(a)) && self.pos > start + 1 {
                    // No attributes: `base_type void` (a missing type), and
                    // what follows is the member's name.
                    self.pos = start + 1;
                }
                let name = self.toks[start..self.pos].iter().map(Tok::text).collect::<Vec<_>>().join(" ");
                let attrs = self.type_attrs();
                Ty::Base { name, attrs }
            }
            Tok::Word(w) if w == "subprogram" || w == "subroutine_type" => {
                self.pos += 1;
                if self.peek() != Some(&Tok::Open(b'(')) {
                    return Ty::Other(w);
                }
                self.pos += 1;
                let params = self.list(b')', depth);
                let ret = if self.peek_word() == Some("->") {
                    self.pos += 1;
                    self.ty(depth + 1)
                } else {
                    Ty::Other(String::new())
                };
                Ty::Func { kind: w, params, ret: Box::new(ret) }
            }
            Tok::Word(w) if w == "variable" => {
                self.pos += 1;
                Ty::Variable(Box::new(self.ty(depth + 1)))
            }
            Tok::Word(w)
                if w.ends_with("_type") || w.starts_with("array_type") || w == "variant" || w == "variant_part" =>
            {
                self.pos += 1;
                let start = self.pos;
                while matches!(self.peek(), Some(Tok::Word(_) | Tok::Ref(_))) {
                    self.pos += 1;
                }
                if self.peek() != Some(&Tok::Open(b'{')) {
                    // `unspecified_type`, or something unexpected: keep the
                    // kind alone and leave the rest to the caller.
                    self.pos = start;
                    return Ty::Other(w);
                }
                let name = self.toks[start..self.pos].iter().map(Tok::text).collect::<Vec<_>>().join(" ");
                self.pos += 1;
                let body = self.list(b'}', depth);
                let attrs = self.type_attrs();
                Ty::Group { kind: w, name, body, attrs }
            }
            Tok::Word(w) => {
                self.pos += 1;
                Ty::Other(w)
            }
            Tok::Open(_) | Tok::Close(_) | Tok::Comma => self.rest_as_other(),
        }
    }

    fn rest_as_other(&mut self) -> Ty {
        // Everything up to the end of the enclosing list, balanced.
        let start = self.pos;
        let mut depth = 0i32;
        while let Some(t) = self.peek() {
            match t {
                Tok::Open(_) => depth += 1,
                Tok::Close(_) if depth == 0 => break,
                Tok::Close(_) => depth -= 1,
                Tok::Comma if depth == 0 => break,
                _ => {}
            }
            self.pos += 1;
        }
        Ty::Other(self.toks[start..self.pos].iter().map(Tok::text).collect::<Vec<_>>().join(" "))
    }

    fn type_attrs(&mut self) -> Vec<String> {
        let mut attrs = Vec::new();
        while let Some(w) = self.peek_word() {
            if !is_type_attr(w) {
                break;
            }
            attrs.push(w.to_string());
            self.pos += 1;
        }
        attrs
    }

    /// Items up to the closing `close` (consumed), separated by commas.
    fn list(&mut self, close: u8, depth: u32) -> Vec<Item> {
        let mut items = Vec::new();
        loop {
            match self.peek() {
                None => return items,
                Some(Tok::Close(c)) => {
                    let c = *c;
                    self.pos += 1;
                    if c == close {
                        return items;
                    }
                    continue;
                }
                Some(Tok::Comma) => {
                    self.pos += 1;
                    continue;
                }
                _ => {}
            }
            let before = self.pos;
            items.push(self.item(depth + 1));
            // Whatever the item did not read, up to the next comma or the
            // end of the list, is kept as an opaque item.
            if !matches!(self.peek(), None | Some(Tok::Comma | Tok::Close(_))) {
                let rest = self.rest_as_other();
                if let Ty::Other(t) = rest {
                    if !t.is_empty() {
                        items.push(Item {
                            kind: ItemKind::Type,
                            ty: Some(Ty::Other(t)),
                            name: None,
                            value: None,
                            attrs: Vec::new(),
                        });
                    }
                }
            }
            if self.pos == before {
                self.pos += 1;
            }
        }
    }

    fn item(&mut self, depth: u32) -> Item {
        let mut it = Item { kind: ItemKind::Type, ty: None, name: None, value: None, attrs: Vec::new() };
        match self.peek_word() {
            Some(kw @ ("member" | "formal_parameter")) => {
                it.kind = if kw == "member" { ItemKind::Member } else { ItemKind::Parameter };
                self.pos += 1;
                it.ty = Some(self.ty(depth));
                if let Some(w) = self.peek_word() {
                    if !is_attr(w) && w != "->" {
                        it.name = Some(w.to_string());
                        self.pos += 1;
                    }
                }
                while let Some(w) = self.peek_word() {
                    if !is_attr(w) {
                        break;
                    }
                    it.attrs.push(w.to_string());
                    self.pos += 1;
                }
            }
            Some("enumerator") => {
                it.kind = ItemKind::Enumerator;
                self.pos += 1;
                let start = self.pos;
                while let Some(w) = self.peek_word() {
                    if w == "=" {
                        break;
                    }
                    self.pos += 1;
                }
                if self.pos > start {
                    it.name = Some(self.toks[start..self.pos].iter().map(Tok::text).collect::<Vec<_>>().join(" "));
                }
                if self.peek_word() == Some("=") {
                    self.pos += 1;
                    if let Some(v) = self.peek_word() {
                        it.value = Some(v.to_string());
                        self.pos += 1;
                    }
                }
            }
            Some("variant" | "variant_part") => {
                it.kind = ItemKind::Variant;
                it.ty = Some(self.ty(depth));
            }
            _ => it.ty = Some(self.ty(depth)),
        }
        it
    }
}

/// Parses a type string (a symtypes line without its name).
pub fn parse(text: &[u8]) -> Ty {
    let mut p = Parser { toks: tokenize(text), pos: 0 };
    let ty = p.ty(0);
    if p.pos < p.toks.len() {
        // Trailing text the grammar does not explain: keep it all as text.
        return Ty::Other(p.toks.iter().map(Tok::text).collect::<Vec<_>>().join(" "));
    }
    ty
}

/// How a reference is reached inside a type: the member, parameter or
/// return value that leads to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// A member, by its name; members of anonymous structs and unions are
    /// named as C names them (`f_llist`, not `<anon>.f_llist`); an unnamed
    /// member of a named type is `(anonymous)`.
    Member(String),
    /// A parameter, by name or (unnamed) by position from 1.
    Parameter(String),
    Return,
    /// An enumerator (only in `type_string` overrides).
    Enumerator(String),
}

impl std::fmt::Display for Via {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Via::Member(n) => write!(f, "member {n}"),
            Via::Parameter(n) => write!(f, "parameter {n}"),
            Via::Return => write!(f, "return"),
            Via::Enumerator(n) => write!(f, "enumerator {n}"),
        }
    }
}

/// Where each reference sits in `ty`: the first place each one is met,
/// in text order.
pub fn reference_sites(ty: &Ty) -> HashMap<String, Option<Via>> {
    let mut out = HashMap::new();
    sites(ty, None, &mut out, 0);
    out
}

/// Where references sit in type texts, each distinct text parsed once:
/// the same structures are met over and over (across the exports of one
/// object, across the objects of a tree).
#[derive(Default)]
pub struct Sites {
    parsed: HashMap<Vec<u8>, HashMap<String, Option<Via>>>,
}

impl Sites {
    /// The member, parameter or return value of the type text `text` that
    /// refers to the type named `to`.
    pub fn via(&mut self, text: &[u8], to: &[u8]) -> Option<Via> {
        if !self.parsed.contains_key(text) {
            self.parsed.insert(text.to_vec(), reference_sites(&parse(text)));
        }
        self.parsed[text].get(&*String::from_utf8_lossy(to)).cloned().flatten()
    }
}

fn sites(ty: &Ty, via: Option<&Via>, out: &mut HashMap<String, Option<Via>>, depth: u32) {
    if depth > MAX_DEPTH {
        return;
    }
    match ty {
        Ty::Ref(r) => {
            out.entry(r.clone()).or_insert_with(|| via.cloned());
        }
        Ty::Base { .. } | Ty::Other(_) => {}
        Ty::Variable(t) => sites(t, via, out, depth + 1),
        Ty::Group { body, .. } => {
            for it in body {
                // The outermost member or parameter names the way; an
                // anonymous struct or union lets its members name it.
                let own = match (via, it.kind, &it.name) {
                    (Some(v), ..) => Some(v.clone()),
                    (None, ItemKind::Member, Some(n)) => Some(Via::Member(n.clone())),
                    (None, ItemKind::Member, None) if it.ty.as_ref().and_then(anonymous_aggregate).is_none() => {
                        Some(Via::Member("(anonymous)".into()))
                    }
                    (None, ItemKind::Enumerator, Some(n)) => Some(Via::Enumerator(n.clone())),
                    _ => None,
                };
                if let Some(t) = &it.ty {
                    sites(t, own.as_ref(), out, depth + 1);
                }
            }
        }
        Ty::Func { params, ret, .. } => {
            for (i, it) in params.iter().enumerate() {
                let own = via
                    .cloned()
                    .unwrap_or_else(|| Via::Parameter(it.name.clone().unwrap_or_else(|| format!("#{}", i + 1))));
                if let Some(t) = &it.ty {
                    sites(t, Some(&own), out, depth + 1);
                }
            }
            let own = via.cloned().unwrap_or(Via::Return);
            sites(ret, Some(&own), out, depth + 1);
        }
    }
}

/// One difference between two versions of a type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Change {
    /// `added`, `removed`, `retyped` (same name, another type), `moved`
    /// (same type, other member attributes: offsets, bit fields), `value`
    /// (an enumerator's), `changed` (an attribute of the type itself, or its
    /// kind), `declared` / `defined` (lost or gained its definition),
    /// `redefined` (texts that could not be compared piece by piece).
    pub change: &'static str,
    /// `member`, `parameter`, `enumerator`, `variant`, `type`, `return`,
    /// `target` (a typedef's or modifier's), `attribute`, `kind`, `definition`.
    pub item: &'static str,
    /// The member, parameter, enumerator or attribute name (`a.b` inside
    /// nested anonymous members: `(anonymous union).flags`); empty when the
    /// item has none.
    pub name: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

fn change(
    change: &'static str,
    item: &'static str,
    name: impl Into<String>,
    old: Option<String>,
    new: Option<String>,
) -> Change {
    Change { change, item, name: name.into(), old, new }
}

/// What changed between two type strings (symtypes texts without the name).
pub fn diff(old: &[u8], new: &[u8]) -> Vec<Change> {
    if old == new {
        return Vec::new();
    }
    let (o, n) = (parse(old), parse(new));
    let mut out = Vec::new();
    diff_ty(&o, &n, "", &mut out, 0);
    if out.is_empty() {
        out.push(change("redefined", "type", "", Some(lossy(old)), Some(lossy(new))));
    }
    out
}

fn attr_map(attrs: &[String]) -> Vec<(&str, &str)> {
    attrs
        .iter()
        .map(|a| {
            let n = attr_name(a);
            (n, a[n.len()..].trim_start_matches('(').trim_end_matches(')'))
        })
        .collect()
}

fn diff_attrs(old: &[String], new: &[String], prefix: &str, out: &mut Vec<Change>) {
    let (o, n) = (attr_map(old), attr_map(new));
    let mut names: Vec<&str> = o.iter().chain(n.iter()).map(|(k, _)| *k).collect();
    let mut seen = BTreeSet::new();
    names.retain(|k| seen.insert(*k));
    for k in names {
        let ov = o.iter().find(|(a, _)| *a == k).map(|(_, v)| v.to_string());
        let nv = n.iter().find(|(a, _)| *a == k).map(|(_, v)| v.to_string());
        if ov != nv {
            out.push(change("changed", "attribute", format!("{prefix}{k}"), ov, nv));
        }
    }
}

fn is_declaration(ty: &Ty) -> bool {
    matches!(ty, Ty::Group { kind, body, attrs, .. } if kind != "enumeration_type" && is_aggregate_kind(kind) && body.is_empty() && attrs.is_empty())
}

fn anon_name(ty: Option<&Ty>) -> String {
    match ty.and_then(anonymous_aggregate) {
        Some(Ty::Group { kind, .. }) => format!(
            "(anonymous {})",
            kind.trim_end_matches("_type").replace("structure", "struct").replace("enumeration", "enum")
        ),
        _ => "(anonymous)".into(),
    }
}

fn diff_ty(o: &Ty, n: &Ty, prefix: &str, out: &mut Vec<Change>, depth: u32) {
    if depth > MAX_DEPTH {
        return;
    }
    match (o, n) {
        (Ty::Group { kind: ok, body: ob, attrs: oa, .. }, Ty::Group { kind: nk, body: nb, attrs: na, .. })
            if is_aggregate_kind(ok) && is_aggregate_kind(nk) =>
        {
            if ok != nk {
                out.push(change("changed", "kind", prefix.trim_end_matches('.'), Some(ok.clone()), Some(nk.clone())));
            }
            match (is_declaration(o), is_declaration(n)) {
                (false, true) => {
                    out.push(change(
                        "declared",
                        "definition",
                        prefix.trim_end_matches('.'),
                        Some(format!("{} members", ob.len())),
                        None,
                    ));
                    return;
                }
                (true, false) => {
                    out.push(change(
                        "defined",
                        "definition",
                        prefix.trim_end_matches('.'),
                        None,
                        Some(format!("{} members", nb.len())),
                    ));
                    return;
                }
                _ => {}
            }
            diff_attrs(oa, na, prefix, out);
            diff_items(ob, nb, prefix, out, depth);
        }
        (Ty::Func { params: op, ret: or, .. }, Ty::Func { params: np, ret: nr, .. }) => {
            diff_items(op, np, prefix, out, depth);
            if or != nr {
                out.push(change("retyped", "return", prefix.trim_end_matches('.'), Some(or.text()), Some(nr.text())));
            }
        }
        (Ty::Group { kind: ok, body: ob, attrs: oa, .. }, Ty::Group { kind: nk, body: nb, attrs: na, .. })
            if ok == nk =>
        {
            // typedefs, modifiers, arrays: one target
            let text = |b: &[Item]| b.iter().map(Item::text).collect::<Vec<_>>().join(" , ");
            if ob != nb {
                out.push(change("retyped", "target", prefix.trim_end_matches('.'), Some(text(ob)), Some(text(nb))));
            }
            diff_attrs(oa, na, prefix, out);
        }
        (Ty::Variable(a), Ty::Variable(b)) => {
            if a != b {
                out.push(change("retyped", "variable", prefix.trim_end_matches('.'), Some(a.text()), Some(b.text())));
            }
        }
        _ => {
            if o != n {
                out.push(change("redefined", "type", prefix.trim_end_matches('.'), Some(o.text()), Some(n.text())));
            }
        }
    }
}

/// Items matched by kind and name; unnamed ones by their position among
/// the unnamed items of their kind. Parameters are matched by name only
/// when every parameter on both sides has one, otherwise by position
/// (`positional`). A name met twice gets a number.
fn keys(items: &[Item], positional: bool) -> Vec<(ItemKind, String)> {
    let mut unnamed: HashMap<ItemKind, usize> = HashMap::new();
    let mut seen: BTreeSet<(ItemKind, String)> = BTreeSet::new();
    items
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let mut k = match &it.name {
                _ if positional && it.kind == ItemKind::Parameter => (it.kind, format!("#{}", i + 1)),
                Some(n) => (it.kind, n.clone()),
                None => {
                    let c = unnamed.entry(it.kind).or_insert(0);
                    *c += 1;
                    (it.kind, format!("\0{}", *c))
                }
            };
            let mut n = 1;
            while !seen.insert(k.clone()) {
                n += 1;
                k.1 = format!("{}\0{n}", k.1.split('\0').next().unwrap_or_default());
            }
            k
        })
        .collect()
}

fn display_name(it: &Item, key: &str) -> String {
    match &it.name {
        Some(n) => n.clone(),
        None if key.starts_with('\0') => anon_name(it.ty.as_ref()),
        None => key.to_string(),
    }
}

fn diff_items(old: &[Item], new: &[Item], prefix: &str, out: &mut Vec<Change>, depth: u32) {
    let unnamed_param = |v: &[Item]| v.iter().any(|it| it.kind == ItemKind::Parameter && it.name.is_none());
    let positional = unnamed_param(old) || unnamed_param(new);
    let (ok, nk) = (keys(old, positional), keys(new, positional));
    let old_at: HashMap<&(ItemKind, String), usize> = ok.iter().enumerate().map(|(i, k)| (k, i)).collect();
    let new_at: HashMap<&(ItemKind, String), usize> = nk.iter().enumerate().map(|(i, k)| (k, i)).collect();
    // Output in the new order, each removed item after the old item before
    // it that is still there.
    let mut removed_after: HashMap<Option<usize>, Vec<usize>> = HashMap::new();
    let mut last_kept: Option<usize> = None;
    for (i, k) in ok.iter().enumerate() {
        match new_at.get(k) {
            Some(&j) => last_kept = Some(j),
            None => removed_after.entry(last_kept).or_default().push(i),
        }
    }
    let emit_removed = |at: Option<usize>, out: &mut Vec<Change>| {
        for &i in removed_after.get(&at).map(Vec::as_slice).unwrap_or(&[]) {
            let it = &old[i];
            out.push(change(
                "removed",
                it.kind.word(),
                format!("{prefix}{}", display_name(it, &ok[i].1)),
                Some(it.body_text()),
                None,
            ));
        }
    };
    emit_removed(None, out);
    for (j, k) in nk.iter().enumerate() {
        let n = &new[j];
        let mut name = format!("{prefix}{}", display_name(n, &k.1));
        if n.name.is_none() {
            if let Some(o) = old_at.get(k).and_then(|&i| old[i].name.as_ref()) {
                name = format!("{prefix}{o}");
            }
        }
        match old_at.get(k) {
            None => out.push(change("added", n.kind.word(), name, None, Some(n.body_text()))),
            Some(&i) => {
                let o = &old[i];
                if o != n {
                    diff_item(o, n, &name, out, depth);
                }
            }
        }
        emit_removed(Some(j), out);
    }
}

/// The modifiers around an anonymous aggregate (`const_type`), to tell
/// whether only the inside changed.
fn strip_aggregate(ty: Option<&Ty>) -> Vec<&str> {
    let mut kinds = Vec::new();
    let mut t = ty;
    while let Some(Ty::Group { kind, body, .. }) = t {
        kinds.push(kind.as_str());
        if is_aggregate_kind(kind) || body.len() != 1 {
            break;
        }
        t = body[0].ty.as_ref();
    }
    kinds
}

fn diff_item(o: &Item, n: &Item, name: &str, out: &mut Vec<Change>, depth: u32) {
    if o.kind == ItemKind::Enumerator {
        if o.value != n.value {
            out.push(change("value", "enumerator", name, o.value.clone(), n.value.clone()));
        }
        return;
    }
    if o.name != n.name && o.kind == ItemKind::Parameter {
        out.push(change("renamed", "parameter", name, o.name.clone(), n.name.clone()));
    }
    if o.ty != n.ty {
        match (o.ty.as_ref().and_then(anonymous_aggregate), n.ty.as_ref().and_then(anonymous_aggregate)) {
            // An anonymous struct or union (or a variant): what changed inside.
            (Some(a), Some(b)) if strip_aggregate(o.ty.as_ref()) == strip_aggregate(n.ty.as_ref()) => {
                diff_ty(a, b, &format!("{name}."), out, depth + 1)
            }
            _ => out.push(change("retyped", o.kind.word(), name, Some(o.ty_text()), Some(n.ty_text()))),
        }
    }
    if o.attrs != n.attrs {
        out.push(change("moved", o.kind.word(), name, Some(o.attrs.join(" ")), Some(n.attrs.join(" "))));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Ty {
        parse(s.as_bytes())
    }

    #[test]
    fn parses_members_and_round_trips() {
        let texts = [
            "structure_type node { member pointer_type { s#node } byte_size(8) next data_member_location(0) , member base_type int byte_size(4) encoding(5) val data_member_location(8) } byte_size(16)",
            "subprogram ( formal_parameter pointer_type { const_type { s#dx_ctl } } byte_size(8) ctl , formal_parameter e#dx_mode mode ) -> base_type int byte_size(4) encoding(5)",
            "subprogram ( formal_parameter base_type int byte_size(4) encoding(5) sig , formal_parameter pointer_type { subroutine_type ( formal_parameter base_type int byte_size(4) encoding(5) ) -> base_type void } byte_size(8) handler ) -> base_type void",
            "enumeration_type dx_mode { enumerator DX_MODE_OFF = 0 , enumerator DX_MODE_ON = 1 } byte_size(4)",
            "typedef_type dx_id_t { t#dx_u32 }",
            "variable const_type { s#file_operations }",
            "structure_type address_space { }",
            "structure_type x { member array_type[4][2] { base_type char byte_size(1) encoding(6) } name data_member_location(0) , member union_type { member s#'a b' x , member t#y } byte_size(8) data_member_location(8) } byte_size(16)",
        ];
        for t in texts {
            let ty = p(t);
            assert!(!matches!(ty, Ty::Other(_)), "{t}: {ty:?}");
            assert_eq!(ty.text(), t);
        }
        let Ty::Group { body, .. } = p(texts[0]) else { panic!() };
        assert_eq!(body[0].name.as_deref(), Some("next"));
        assert_eq!(body[1].name.as_deref(), Some("val"));
        assert_eq!(body[1].attrs, vec!["data_member_location(8)"]);
        let Ty::Func { params, .. } = p(texts[2]) else { panic!() };
        assert_eq!(params[1].name.as_deref(), Some("handler"));
    }

    #[test]
    fn unnamed_and_void() {
        let Ty::Func { params, .. } = p("subroutine_type ( formal_parameter base_type int byte_size(4) encoding(5) , formal_parameter base_type void x ) -> base_type void") else {
            panic!()
        };
        assert_eq!(params[0].name, None);
        assert_eq!(params[1].name.as_deref(), Some("x"));
        // Garbage never panics.
        for t in ["", "{", "} } ,", "member", "structure_type { member", "s#", "a ( b { c"] {
            let _ = p(t).text();
            let _ = diff(t.as_bytes(), b"x");
        }
    }

    #[test]
    fn member_changes() {
        let old = b"structure_type s { member base_type int byte_size(4) encoding(5) a data_member_location(0) , member base_type int byte_size(4) encoding(5) b data_member_location(4) } byte_size(8)";
        let new = b"structure_type s { member base_type int byte_size(4) encoding(5) a data_member_location(0) , member base_type long int byte_size(8) encoding(5) c data_member_location(8) , member base_type long int byte_size(8) encoding(5) b data_member_location(16) } byte_size(24)";
        let d = diff(old, new);
        let got: Vec<(&str, &str)> = d.iter().map(|c| (c.change, c.name.as_str())).collect();
        assert_eq!(got, [("changed", "byte_size"), ("added", "c"), ("retyped", "b"), ("moved", "b")]);
    }

    #[test]
    fn parameters_without_names_match_by_position() {
        let old = b"subprogram ( formal_parameter s#a x , formal_parameter s#b y ) -> base_type void";
        let new = b"subprogram ( formal_parameter s#a , formal_parameter s#c ) -> base_type void";
        let d = diff(old, new);
        let got: Vec<(&str, &str, &str)> = d.iter().map(|c| (c.change, c.item, c.name.as_str())).collect();
        assert_eq!(got, [("renamed", "parameter", "x"), ("renamed", "parameter", "y"), ("retyped", "parameter", "y")]);
        // all named: by name
        let new = b"subprogram ( formal_parameter s#a x , formal_parameter s#z z , formal_parameter s#b y ) -> base_type void";
        let got: Vec<(&'static str, String)> = diff(old, new).into_iter().map(|c| (c.change, c.name)).collect();
        assert_eq!(got, [("added", "z".to_string())]);
    }

    #[test]
    fn inside_anonymous_members() {
        let old = b"structure_type f { member union_type { member s#a x , member base_type int byte_size(4) encoding(5) y } byte_size(8) data_member_location(0) , member const_type { structure_type { member s#b z data_member_location(0) } byte_size(8) } data_member_location(8) } byte_size(16)";
        let new = b"structure_type f { member union_type { member s#a x , member base_type long int byte_size(8) encoding(5) y } byte_size(8) data_member_location(0) , member const_type { structure_type { member s#b z data_member_location(0) , member s#c w data_member_location(8) } byte_size(16) } data_member_location(8) } byte_size(24)";
        let d = diff(old, new);
        let got: Vec<(&str, &str, &str)> = d.iter().map(|c| (c.change, c.item, c.name.as_str())).collect();
        assert_eq!(
            got,
            [
                ("changed", "attribute", "byte_size"),
                ("retyped", "member", "(anonymous union).y"),
                ("changed", "attribute", "(anonymous struct).byte_size"),
                ("added", "member", "(anonymous struct).w"),
            ]
        );
        let s = reference_sites(&parse(new));
        assert_eq!(s["s#c"], Some(Via::Member("w".into())));
    }

    #[test]
    fn sites_name_the_way() {
        let t = p("structure_type f { member union_type { member s#a x , member pointer_type { subroutine_type ( formal_parameter s#b ) -> base_type void } byte_size(8) cb } byte_size(8) data_member_location(0) , member s#c } byte_size(16)");
        let s = reference_sites(&t);
        assert_eq!(s["s#a"], Some(Via::Member("x".into())));
        assert_eq!(s["s#b"], Some(Via::Member("cb".into())));
        assert_eq!(s["s#c"], Some(Via::Member("(anonymous)".into())));
        let f = p("subprogram ( formal_parameter pointer_type { s#a } byte_size(8) dev ) -> pointer_type { s#b } byte_size(8)");
        let s = reference_sites(&f);
        assert_eq!(s["s#a"], Some(Via::Parameter("dev".into())));
        assert_eq!(s["s#b"], Some(Via::Return));
        let t = p("typedef_type t { s#x }");
        assert_eq!(reference_sites(&t)["s#x"], None);
    }
}
