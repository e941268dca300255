//! `textDocument/hover`: the exported symbol named under the cursor, in
//! any source file (C, Rust, ...): its CRC and what it is computed over.

use std::fmt::Write as _;

use lsp_types::{Hover, HoverContents, HoverParams, MarkupContent, MarkupKind, Position, Range};
use serde_json::Value;

use super::handlers::{Failure, View};
use crate::cli::crc_text;

/// How much of an expansion a hover shows (a symbol reaching
/// `task_struct` expands to hundreds of kilobytes).
const SHOWN: usize = 4000;

/// The identifier (`[A-Za-z0-9_]+`) at `pos` in `text`, with its range.
/// Columns count UTF-16 code units, the protocol's default encoding.
pub(crate) fn identifier_at(text: &str, pos: Position) -> Option<(String, Range)> {
    let line = text.split('\n').nth(pos.line as usize)?;
    let line = line.strip_suffix('\r').unwrap_or(line);
    // (UTF-16 column, char) of each character of the line.
    let mut chars = Vec::new();
    let mut col = 0u32;
    for c in line.chars() {
        chars.push((col, c));
        col += c.len_utf16() as u32;
    }
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    // The character under the cursor, or the one before it (a cursor just
    // past the end of a word is still on it).
    let mut at = chars.iter().position(|&(c, _)| c >= pos.character).unwrap_or(chars.len());
    if chars.get(at).is_none_or(|&(c, ch)| c != pos.character || !word(ch)) {
        at = at.checked_sub(1).filter(|&i| word(chars[i].1))?;
    }
    let start = (0..=at).rev().take_while(|&i| word(chars[i].1)).last()?;
    let end = (at..chars.len()).take_while(|&i| word(chars[i].1)).last()? + 1;
    let name: String = chars[start..end].iter().map(|&(_, c)| c).collect();
    let end_col = chars.get(end).map_or(col, |&(c, _)| c);
    Some((name, Range::new(Position::new(pos.line, chars[start].0), Position::new(pos.line, end_col))))
}

impl View<'_> {
    pub fn hover(&self, params: HoverParams) -> Result<Value, Failure> {
        let doc = params.text_document_position_params;
        let text = match self.server.docs.get(&doc.text_document.uri) {
            Some(t) => t.clone(),
            // Not open in the client: the file as it is on disk.
            None => match doc.text_document.uri.to_file_path().ok().and_then(|p| std::fs::read(p).ok()) {
                Some(b) => String::from_utf8_lossy(&b).into_owned(),
                None => return Ok(Value::Null),
            },
        };
        let Some((name, range)) = identifier_at(&text, doc.position) else { return Ok(Value::Null) };
        let found = self.exporters(name.as_bytes(), None);
        let Some(first) = found.first() else { return Ok(Value::Null) };

        let mut md = String::new();
        let _ = writeln!(md, "**{name}** `{}`\n", crc_text(first.crc));
        for e in &found {
            let _ = writeln!(md, "- `{}` exported by `{}`", crc_text(e.crc), e.path.display());
        }
        match (self.graph(first.obj), first.crc) {
            (Some(g), Some(_)) => {
                let used = g.reachable(name.as_bytes());
                if let Ok((_, expanded)) = g.expansion(name.as_bytes()) {
                    let s = String::from_utf8_lossy(&expanded);
                    let cut = s.char_indices().nth(SHOWN).map_or(s.len(), |(i, _)| i);
                    let more =
                        if cut < s.len() { format!(" … ({} more bytes)", s.len() - cut) } else { String::new() };
                    let _ = write!(
                        md,
                        "\nComputed over ({} types reached):\n\n```\n{}{more}\n```\n",
                        used.len().saturating_sub(1),
                        &s[..cut]
                    );
                }
            }
            _ => md.push_str("\nNo DWARF information for it: upstream prints CRC 0.\n"),
        }
        let hover = Hover {
            contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: md }),
            range: Some(range),
        };
        serde_json::to_value(hover).map_err(|e| Failure::new(lsp_server::ErrorCode::InternalError, e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, line: u32, col: u32) -> Option<(String, u32, u32)> {
        identifier_at(text, Position::new(line, col)).map(|(n, r)| (n, r.start.character, r.end.character))
    }

    #[test]
    fn identifiers() {
        let t = "int x;\n\tret = inc_a_open(dev);\r\n";
        assert_eq!(at(t, 1, 7), Some(("inc_a_open".into(), 7, 17)));
        assert_eq!(at(t, 1, 16), Some(("inc_a_open".into(), 7, 17)));
        // Just past the end of the word.
        assert_eq!(at(t, 1, 17), Some(("inc_a_open".into(), 7, 17)));
        assert_eq!(at(t, 1, 0), None);
        assert_eq!(at(t, 5, 0), None);
        // UTF-16 columns: 'é' is one unit, '𝄞' two.
        assert_eq!(at("é𝄞 foo", 0, 4), Some(("foo".into(), 4, 7)));
    }
}
