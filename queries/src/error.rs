//! The engine's one error type: a fatal error in upstream's words.

use std::fmt;

/// A fatal error, printed by the drop-in as
/// `error: gendwarfksyms: <function>: <message>` with exit status 1.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Error {
    /// The upstream function the message belongs to (part of the output).
    pub function: &'static str,
    pub message: String,
}

impl Error {
    pub fn new(function: &'static str, message: String) -> Error {
        Error { function, message }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.function, self.message)
    }
}

impl std::error::Error for Error {}

impl From<crate::elf::ElfError> for Error {
    fn from(e: crate::elf::ElfError) -> Error {
        Error { function: e.function, message: e.message }
    }
}
