//! The one directory the control plane may write and read files in: the
//! directory llmspy was started in, or `--files-root DIR`.
//!
//! A path from a request (REST fixture record, the MCP tools that record,
//! load or export) is resolved inside the root: `..`, absolute paths
//! elsewhere and symlinks that lead out are refused with an error naming
//! the root. Writes never replace an existing file unless asked, create the
//! directories they need and make files only the user can read (they hold
//! captured traffic). Reads take regular files only, up to a size cap, so
//! `/dev/zero` or a FIFO cannot hold a request for ever.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use http::StatusCode;

/// Largest file the control plane reads.
pub const MAX_READ_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error(
        "{path}: outside the files root {root} ({why}); start llmspy with --files-root DIR to use another directory"
    )]
    Outside {
        path: String,
        root: PathBuf,
        why: &'static str,
    },
    #[error("{path} already exists; pass \"overwrite\": true to replace it")]
    Exists { path: PathBuf },
    #[error("{path} is not a regular file")]
    NotRegular { path: PathBuf },
    #[error("{path} is larger than {cap} bytes")]
    TooLarge { path: PathBuf, cap: u64 },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl FileError {
    /// The HTTP status that says what went wrong.
    pub fn status(&self) -> StatusCode {
        match self {
            FileError::Outside { .. } => StatusCode::FORBIDDEN,
            FileError::Exists { .. } => StatusCode::CONFLICT,
            FileError::NotRegular { .. } | FileError::TooLarge { .. } => StatusCode::BAD_REQUEST,
            // An empty path: the caller's mistake, not the machine's.
            FileError::Io { source, .. } if source.kind() == std::io::ErrorKind::InvalidInput => {
                StatusCode::BAD_REQUEST
            }
            FileError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                StatusCode::NOT_FOUND
            }
            FileError::Io { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A refusal worth counting (not a plain IO error or a conflict).
    pub fn is_refusal(&self) -> bool {
        matches!(self, FileError::Outside { .. })
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> FileError + '_ {
    move |source| FileError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The files root, resolved once (symlinks included) at start.
#[derive(Debug, Clone)]
pub struct FilesRoot {
    root: PathBuf,
}

impl FilesRoot {
    pub fn new(dir: &Path) -> Result<Self, FileError> {
        let root = dir.canonicalize().map_err(io_error(dir))?;
        Ok(FilesRoot { root })
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Where `requested` lands inside the root, or why it may not.
    pub fn resolve(&self, requested: &str) -> Result<PathBuf, FileError> {
        let outside = |why| FileError::Outside {
            path: requested.to_string(),
            root: self.root.clone(),
            why,
        };
        let asked = Path::new(requested);
        if requested.is_empty() {
            return Err(FileError::Io {
                path: PathBuf::from("\"\""),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "the path is empty: name a file inside llmspy's files root",
                ),
            });
        }
        if asked.components().any(|c| c == Component::ParentDir) {
            return Err(outside("`..` is not allowed"));
        }
        let joined = self.root.join(asked);
        if !joined.starts_with(&self.root) {
            return Err(outside("an absolute path elsewhere"));
        }
        // Follow every symlink on the part that exists; what does not
        // exist yet cannot be a link.
        let (existing, rest) = split_existing(&joined);
        let real = existing.canonicalize().map_err(io_error(&existing))?;
        if !real.starts_with(&self.root) {
            return Err(outside("a symlink leads out of it"));
        }
        Ok(rest.iter().fold(real, |p, part| p.join(part)))
    }

    /// Write `bytes` to `requested` (mode 0600), creating directories;
    /// an existing file is replaced only when `overwrite` is set.
    pub fn write(
        &self,
        requested: &str,
        bytes: &[u8],
        overwrite: bool,
    ) -> Result<PathBuf, FileError> {
        let path = self.resolve(requested)?;
        if path.is_dir() {
            return Err(FileError::NotRegular { path });
        }
        if let Some(parent) = path.parent() {
            crate::private::create_dirs(parent).map_err(io_error(parent))?;
            // A directory created just now may be a link placed in a race;
            // check the real parent once more.
            let real = parent.canonicalize().map_err(io_error(parent))?;
            if !real.starts_with(&self.root) {
                return Err(FileError::Outside {
                    path: requested.to_string(),
                    root: self.root.clone(),
                    why: "a symlink leads out of it",
                });
            }
        }
        let mut options = OpenOptions::new();
        options.write(true);
        if overwrite {
            options.create(true).truncate(true);
        } else {
            options.create_new(true);
        }
        let mut file = crate::private::open(&mut options, &path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                FileError::Exists { path: path.clone() }
            } else {
                FileError::Io {
                    path: path.clone(),
                    source,
                }
            }
        })?;
        file.write_all(bytes).map_err(io_error(&path))?;
        Ok(path)
    }

    /// Read a regular file inside the root, up to [`MAX_READ_BYTES`].
    pub fn read(&self, requested: &str) -> Result<(PathBuf, Vec<u8>), FileError> {
        let path = self.resolve(requested)?;
        let bytes = read_regular(&path, MAX_READ_BYTES)?;
        Ok((path, bytes))
    }
}

/// Read `path` if it is a regular file of at most `cap` bytes. Checked
/// before opening: opening a FIFO would wait for a writer.
pub fn read_regular(path: &Path, cap: u64) -> Result<Vec<u8>, FileError> {
    let meta = std::fs::metadata(path).map_err(io_error(path))?;
    if !meta.is_file() {
        return Err(FileError::NotRegular {
            path: path.to_path_buf(),
        });
    }
    if meta.len() > cap {
        return Err(FileError::TooLarge {
            path: path.to_path_buf(),
            cap,
        });
    }
    let file = std::fs::File::open(path).map_err(io_error(path))?;
    let mut bytes = Vec::new();
    // The file may grow between the check and the read: stop at the cap.
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error(path))?;
    if bytes.len() as u64 > cap {
        return Err(FileError::TooLarge {
            path: path.to_path_buf(),
            cap,
        });
    }
    Ok(bytes)
}

/// The longest prefix of `path` that exists, and the components after it.
fn split_existing(path: &Path) -> (PathBuf, Vec<std::ffi::OsString>) {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    while std::fs::symlink_metadata(&existing).is_err() {
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    rest.reverse();
    (existing, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> (tempfile::TempDir, FilesRoot) {
        let dir = tempfile::tempdir().unwrap();
        let root = FilesRoot::new(dir.path()).unwrap();
        (dir, root)
    }

    #[test]
    fn relative_paths_land_inside_and_create_directories() {
        let (_d, root) = root();
        let p = root.write("fixtures/a/b.json", b"{}", false).unwrap();
        assert!(p.starts_with(root.path()));
        assert_eq!(std::fs::read(&p).unwrap(), b"{}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn escapes_are_refused() {
        let (_d, root) = root();
        for bad in [
            "../x.json",
            "a/../../x.json",
            "/etc/passwd",
            "/tmp/elsewhere.json",
        ] {
            let e = root.resolve(bad).unwrap_err();
            assert!(e.is_refusal(), "{bad}: {e}");
            assert!(
                e.to_string().contains(&root.path().display().to_string()),
                "{e}"
            );
        }
        let inside = root.path().join("ok.json");
        assert!(root.resolve(inside.to_str().unwrap()).is_ok());
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_are_refused() {
        let (_d, root) = root();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("out")).unwrap();
        let e = root.write("out/x.json", b"{}", false).unwrap_err();
        assert!(e.is_refusal(), "{e}");
        std::os::unix::fs::symlink(outside.path().join("f"), root.path().join("link.json"))
            .unwrap();
        std::fs::write(outside.path().join("f"), b"old").unwrap();
        assert!(
            root.write("link.json", b"new", true)
                .unwrap_err()
                .is_refusal()
        );
        assert_eq!(std::fs::read(outside.path().join("f")).unwrap(), b"old");
    }

    #[test]
    fn existing_files_need_overwrite() {
        let (_d, root) = root();
        root.write("f.json", b"1", false).unwrap();
        let e = root.write("f.json", b"2", false).unwrap_err();
        assert_eq!(e.status(), StatusCode::CONFLICT);
        root.write("f.json", b"2", true).unwrap();
        assert_eq!(root.read("f.json").unwrap().1, b"2");
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_not_read() {
        let e = read_regular(Path::new("/dev/zero"), MAX_READ_BYTES).unwrap_err();
        assert!(matches!(e, FileError::NotRegular { .. }), "{e}");
    }
}
