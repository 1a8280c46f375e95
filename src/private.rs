//! Files only their owner can read: everything llmspy writes that holds
//! captured traffic (exports, fixtures, `--save`, the history) or secrets.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

/// Open with mode 0600 where the platform has modes, and without following
/// a symlink at the last component (a link planted there is refused).
pub fn open(options: &mut OpenOptions, path: &Path) -> std::io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

/// Create `dir` and any missing parents owner-only (0700), as the XDG
/// spec asks of data directories: what they hold is the owner's business.
/// Directories that exist keep their mode.
pub fn create_dirs(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Write `bytes` to `path`, replacing what was there, owner-only.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    let mut file = tightened(open(&mut options, path)?)?;
    file.write_all(bytes)
}

/// Open `path` for appending, creating it owner-only.
pub fn append(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).append(true);
    tightened(open(&mut options, path)?)
}

/// A file that existed before keeps its mode when reopened: take back
/// what others could read, since it now holds the same traffic.
fn tightened(file: File) -> std::io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn an_existing_wider_file_ends_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.har");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write(&path, b"new").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            (mode, std::fs::read(&path).unwrap()),
            (0o600, b"new".to_vec())
        );
    }
}
