//! Finding the objects a `dwarfksyms` command works on.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// An object found under one of the command's paths.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Found {
    /// Module.symvers' module: the path relative to where it was found,
    /// without `.ko`/`.o`; `vmlinux` for vmlinux and vmlinux.o.
    pub module: String,
    pub path: PathBuf,
}

pub(crate) fn is_object_name(name: &str) -> bool {
    name == "vmlinux"
        || name.ends_with(".ko")
        || (name.ends_with(".o") && !name.ends_with(".mod.o") && !name.starts_with(".tmp"))
}

fn module_name(rel: &Path) -> String {
    let file = rel.file_name().and_then(|f| f.to_str()).unwrap_or("");
    if file == "vmlinux" || file == "vmlinux.o" {
        return "vmlinux".to_string();
    }
    let s = rel.to_string_lossy();
    let s = s.strip_suffix(".ko").or_else(|| s.strip_suffix(".o")).unwrap_or(&s);
    s.to_string()
}

/// Compressed modules (`make modules_install` with a
/// `CONFIG_MODULE_COMPRESS_*` other than none): not read.
const COMPRESSED_MODULE: &[&str] = &[".ko.zst", ".ko.xz", ".ko.gz"];

/// Every object under `paths`: files given directly are taken whatever
/// their name; directories are searched recursively (symlinked directories
/// are not followed) for `*.o`, `*.ko` and `vmlinux`. Compressed modules
/// met on the way are left out, with one warning on stderr. A file reached
/// twice (named and also under a directory named, or through a link) is
/// taken once, where it was first found: versioned twice, each of its
/// exports would be listed twice, which modpost rejects.
pub fn find(paths: &[PathBuf]) -> Result<Vec<Found>, String> {
    let mut out = Vec::new();
    let mut compressed = Vec::new();
    for root in paths {
        let meta = std::fs::metadata(root).map_err(|e| format!("{}: {e}", root.display()))?;
        if meta.is_dir() {
            walk(root, root, &mut out, &mut compressed)?;
        } else {
            let rel = root.file_name().map(PathBuf::from).unwrap_or_else(|| root.clone());
            out.push(Found { module: module_name(&rel), path: root.clone() });
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|f| match std::fs::metadata(&f.path) {
        Ok(m) => seen.insert((m.dev(), m.ino())),
        Err(_) => true,
    });
    if let Some(first) = compressed.first() {
        eprintln!(
            "warning: dwarfksyms: {} compressed modules left out (e.g. {}): decompress them \
             (zstd -d, xz -d, gunzip) or install the modules uncompressed",
            compressed.len(),
            first.display()
        );
    }
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<Found>, compressed: &mut Vec<PathBuf>) -> Result<(), String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut entries: Vec<_> = rd.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            walk(root, &path, out, compressed)?;
        } else if ft.is_file() || (ft.is_symlink() && path.is_file()) {
            let name = e.file_name();
            let name = name.to_string_lossy();
            if is_object_name(&name) {
                let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
                out.push(Found { module: module_name(&rel), path });
            } else if COMPRESSED_MODULE.iter().any(|s| name.ends_with(s)) {
                compressed.push(path);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names() {
        assert_eq!(module_name(Path::new("drivers/net/foo.ko")), "drivers/net/foo");
        assert_eq!(module_name(Path::new("kernel/fork.o")), "kernel/fork");
        assert_eq!(module_name(Path::new("vmlinux")), "vmlinux");
        assert_eq!(module_name(Path::new("vmlinux.o")), "vmlinux");
        assert!(!is_object_name("foo.mod.o"));
        assert!(is_object_name("foo.ko"));
    }
}
