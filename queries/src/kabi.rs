//! kABI stability rules (`--stable`): the `.discard.gendwarfksyms.kabi_rules`
//! section and the lookups the renderer makes against it.

use std::collections::HashMap;

use crate::error::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleType {
    Declonly,
    EnumeratorIgnore,
    EnumeratorValue,
    ByteSize,
    TypeString,
}

impl RuleType {
    fn parse(tag: &[u8]) -> Option<RuleType> {
        Some(match tag {
            b"declonly" => RuleType::Declonly,
            b"enumerator_ignore" => RuleType::EnumeratorIgnore,
            b"enumerator_value" => RuleType::EnumeratorValue,
            b"byte_size" => RuleType::ByteSize,
            b"type_string" => RuleType::TypeString,
            _ => return None,
        })
    }
}

/// One object's rules. Upstream keys them by (type, target) and the rule
/// read last wins.
#[derive(Debug, Default, Clone)]
pub struct Rules {
    /// Per rule type, target -> value.
    map: HashMap<RuleType, HashMap<Vec<u8>, Vec<u8>>>,
}

/// What reading the rules section reports besides the rules themselves.
#[derive(Debug, Default)]
pub struct RulesLog {
    /// `(type, target, value)` per rule, for `--debug`.
    pub rules: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)>,
    /// Set when 1..6 bytes were left over.
    pub trailing_data: bool,
}

const MIN_ENTRY: usize = 6;

impl Rules {
    /// No rules (no `--stable`, or an object without a rules section).
    pub fn is_empty(&self) -> bool {
        self.map.values().all(HashMap::is_empty)
    }

    /// Parses a rules section exactly as upstream's `kabi_read_rules` does.
    pub fn parse(data: &[u8], log: &mut RulesLog) -> Result<Rules, Error> {
        let err = |msg: String| Error::new("kabi_read_rules", msg);
        if data.len() < MIN_ENTRY {
            return Err(err(format!("kABI rule section too small: {} bytes", data.len())));
        }
        if data[data.len() - 1] != 0 {
            return Err(err("kABI rules are not null-terminated".into()));
        }
        let mut rules = Rules::default();
        let mut pos = 0usize;
        let mut left = data.len() as isize;
        let field = |pos: &mut usize, left: &mut isize| -> Result<Vec<u8>, Error> {
            if *left <= 0 {
                return Err(Error::new("get_rule_field", "unexpected end of kABI rules".into()));
            }
            let rest = &data[*pos..*pos + *left as usize];
            let len = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            let value = rest[..len].to_vec();
            *pos += len + 1;
            *left -= len as isize + 1;
            Ok(value)
        };
        while left > MIN_ENTRY as isize {
            let version = field(&mut pos, &mut left)?;
            if version != b"1" {
                return Err(err(format!("unsupported kABI rule version: '{}'", lossy(&version))));
            }
            let tag = field(&mut pos, &mut left)?;
            let Some(ty) = RuleType::parse(&tag) else {
                return Err(err(format!("unsupported kABI rule type: '{}'", lossy(&tag))));
            };
            let target = field(&mut pos, &mut left)?;
            let value = field(&mut pos, &mut left)?;
            log.rules.push((tag, target.clone(), value.clone()));
            rules.map.entry(ty).or_default().insert(target, value);
        }
        if left > 0 {
            log.trailing_data = true;
        }
        Ok(rules)
    }

    fn find(&self, ty: RuleType, target: &[u8]) -> Option<&[u8]> {
        if target.is_empty() {
            return None;
        }
        self.map.get(&ty)?.get(target).map(|v| v.as_slice())
    }

    fn find_enumerator(&self, ty: RuleType, enum_fqn: &[u8], name: &[u8]) -> Option<&[u8]> {
        if enum_fqn.is_empty() || name.is_empty() || self.map.is_empty() {
            return None;
        }
        let mut target = enum_fqn.to_vec();
        target.push(b' ');
        target.extend_from_slice(name);
        self.find(ty, &target)
    }

    pub fn is_declonly(&self, fqn: &[u8]) -> bool {
        self.find(RuleType::Declonly, fqn).is_some()
    }

    pub fn is_enumerator_ignored(&self, enum_fqn: &[u8], name: &[u8]) -> bool {
        self.find_enumerator(RuleType::EnumeratorIgnore, enum_fqn, name).is_some()
    }

    pub fn enumerator_value(&self, enum_fqn: &[u8], name: &[u8]) -> Result<Option<u64>, Error> {
        self.find_enumerator(RuleType::EnumeratorValue, enum_fqn, name).map(ulong_value).transpose()
    }

    pub fn byte_size(&self, fqn: &[u8]) -> Result<Option<u64>, Error> {
        self.find(RuleType::ByteSize, fqn).map(ulong_value).transpose()
    }

    pub fn type_string(&self, name: &[u8]) -> Option<&[u8]> {
        self.find(RuleType::TypeString, name)
    }
}

/// C `strtoul(value, &end, 10)` with upstream's checks: whitespace and a
/// sign are accepted, a negative number wraps, trailing bytes or overflow fail.
fn ulong_value(value: &[u8]) -> Result<u64, Error> {
    let fail = || Error::new("get_ulong_value", format!("invalid unsigned value '{}'", lossy(value)));
    let mut i = 0;
    while i < value.len() && matches!(value[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let mut negative = false;
    if i < value.len() && (value[i] == b'+' || value[i] == b'-') {
        negative = value[i] == b'-';
        i += 1;
    }
    let digits_start = i;
    let mut n: u64 = 0;
    let mut overflow = false;
    while i < value.len() && value[i].is_ascii_digit() {
        match n.checked_mul(10).and_then(|n| n.checked_add((value[i] - b'0') as u64)) {
            Some(v) => n = v,
            None => overflow = true,
        }
        i += 1;
    }
    if i == digits_start {
        // No digits: strtoul leaves end at the start of the string.
        return if value.is_empty() { Ok(0) } else { Err(fail()) };
    }
    if overflow || i != value.len() {
        return Err(fail());
    }
    Ok(if negative { n.wrapping_neg() } else { n })
}

pub(crate) fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtoul_semantics() {
        assert_eq!(ulong_value(b"-1").unwrap(), u64::MAX);
        assert_eq!(ulong_value(b" +5").unwrap(), 5);
        assert_eq!(ulong_value(b"").unwrap(), 0);
        assert!(ulong_value(b"12x").is_err());
        assert!(ulong_value(b" 0x10").is_err());
        assert!(ulong_value(b"two").is_err());
        assert!(ulong_value(b"99999999999999999999999").is_err());
        assert!(ulong_value(b" ").is_err());
    }
}
