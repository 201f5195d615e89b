//! The one bounded reader of files a user hands the harness (input files, `--config` files):
//! regular files only, opened without blocking, at most a bound read.

use std::io::Read as _;
use std::path::Path;

/// Why [`read_bounded`] refused a file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// It could not be opened or read (e.g. it does not exist).
    #[error("cannot read: {0}")]
    Io(#[source] std::io::Error),
    /// It is not a regular file: a FIFO, a device, a directory, a socket (or a symlink to one);
    /// the text says which.
    #[error("cannot read: not a regular file ({0})")]
    NotRegular(String),
    /// It holds more than the limit.
    #[error("larger than {}", size_text(*limit))]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
}

/// Reads the regular file `path` (a symlink is followed), at most `max_bytes` of it.
///
/// Never blocks on special files: the file is opened with `O_NONBLOCK` (so a FIFO without a
/// writer opens at once), then the opened file is checked to be a regular file (a FIFO,
/// character or block device such as `/dev/zero`, directory or socket is refused with
/// [`ReadError::NotRegular`] naming what it is). At most `max_bytes + 1` bytes are read, so a
/// file that grows while being read, or claims size 0 (`/proc`), is still bounded: more than
/// `max_bytes` is [`ReadError::TooLarge`].
pub fn read_bounded(path: &Path, max_bytes: u64) -> Result<Vec<u8>, ReadError> {
    let file = match open_nonblocking(path) {
        Ok(f) => f,
        Err(e) => {
            // A socket (ENXIO) or a device we may not open: say what the path is.
            return Err(match std::fs::metadata(path) {
                Ok(m) if !m.is_file() => ReadError::NotRegular(kind_text(path, &m.file_type())),
                _ => ReadError::Io(e),
            });
        }
    };
    let meta = file.metadata().map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular(kind_text(path, &meta.file_type())));
    }
    if meta.len() > max_bytes {
        return Err(ReadError::TooLarge { limit: max_bytes });
    }
    // The size is a hint only (it may change, or be 0 for /proc files).
    let mut bytes = Vec::with_capacity(meta.len().min(max_bytes).min(1 << 26) as usize);
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(ReadError::TooLarge { limit: max_bytes });
    }
    Ok(bytes)
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::open(path)
}

/// What a non-regular file is, e.g. "a FIFO", "a symlink to a character device".
fn kind_text(path: &Path, t: &std::fs::FileType) -> String {
    #[cfg(unix)]
    let special = {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_fifo() {
            Some("a FIFO")
        } else if t.is_char_device() {
            Some("a character device")
        } else if t.is_block_device() {
            Some("a block device")
        } else if t.is_socket() {
            Some("a socket")
        } else {
            None
        }
    };
    #[cfg(not(unix))]
    let special: Option<&str> = None;
    let kind = match special {
        Some(k) => k,
        None if t.is_dir() => "a directory",
        None => "not a file",
    };
    let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if link {
        format!("a symlink to {kind}")
    } else {
        kind.to_owned()
    }
}

/// `n` bytes in words: `64 MiB`, `1 KiB`, `100 bytes`, or `123456789 bytes (117.7 MiB)`.
pub(crate) fn size_text(n: u64) -> String {
    for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if n >= 1 << shift && n.is_multiple_of(1 << shift) {
            return format!("{} {unit}", n >> shift);
        }
    }
    if n >= 1 << 20 {
        format!("{n} bytes ({:.1} MiB)", n as f64 / f64::from(1 << 20))
    } else {
        format!("{n} bytes")
    }
}
