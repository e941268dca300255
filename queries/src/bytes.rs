//! An object file's bytes as the engine's input holds them.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// Shared, read-only bytes. The owner is the front end's choice: a `Vec`
/// read from a file (kept as it is, not copied into a new allocation), or
/// a file mapping, which costs no copy and no fresh memory at all — for a
/// one-object process, faulting in a copy of the file is a real part of
/// its run time.
#[derive(Clone)]
pub struct Bytes(Arc<dyn AsRef<[u8]> + Send + Sync>);

impl Bytes {
    pub fn from_owner(owner: impl AsRef<[u8]> + Send + Sync + 'static) -> Bytes {
        Bytes(Arc::new(owner))
    }
}

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        (*self.0).as_ref()
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Bytes {
        Bytes::from_owner(v)
    }
}

impl From<Arc<[u8]>> for Bytes {
    fn from(v: Arc<[u8]>) -> Bytes {
        Bytes::from_owner(v)
    }
}

impl From<&[u8]> for Bytes {
    fn from(v: &[u8]) -> Bytes {
        Bytes::from_owner(v.to_vec())
    }
}

/// Equal when the bytes are, whatever owns them.
impl PartialEq for Bytes {
    fn eq(&self, other: &Bytes) -> bool {
        self[..] == other[..]
    }
}

impl Eq for Bytes {}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({} bytes)", self.len())
    }
}
