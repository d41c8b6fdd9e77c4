//! One crate-level error type. Every variant says what went wrong in the
//! user's terms (which file, which variable, which shape), so the CLI can
//! print it as one line and exit non-zero.

use std::fmt;
use std::path::{Path, PathBuf};

/// Everything that can go wrong, in the user's terms. New kinds may be
/// added: match with a wildcard arm.
#[derive(Debug)]
#[non_exhaustive]
pub enum UdllError {
    /// A file could not be opened, read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A file was read but its contents are not what the format says.
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Arrays that must agree in size do not.
    Shape(String),
    /// Pixels or features that are NaN or infinite.
    NonFinite(String),
    /// A hyper-parameter or option outside its valid range.
    Config(String),
    /// A numerical routine failed (no convergence, singular matrix, ...).
    Numeric(String),
    /// A reproduction did not give the recorded bytes (`udll audit`).
    Mismatch(String),
    /// A plan needs more memory than the budget allows
    /// ([`crate::memory::budget`]); nothing was allocated.
    OverBudget {
        /// What needed it.
        what: String,
        /// Bytes it needs (None: more than can be counted).
        needed: Option<u64>,
        /// The budget in bytes.
        budget: u64,
        /// What set the budget, in words.
        budget_source: &'static str,
        /// How to allow more.
        advice: String,
    },
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, UdllError>;

impl UdllError {
    /// An I/O error on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        UdllError::Io { path: path.to_path_buf(), source }
    }
    /// A file whose contents are not what its format says.
    pub fn format(path: &Path, message: impl Into<String>) -> Self {
        UdllError::Format { path: path.to_path_buf(), message: message.into() }
    }
    /// A setting out of its range.
    pub fn config(message: impl Into<String>) -> Self {
        UdllError::Config(message.into())
    }
    /// Sizes that do not agree.
    pub fn shape(message: impl Into<String>) -> Self {
        UdllError::Shape(message.into())
    }
}

impl fmt::Display for UdllError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UdllError::Io { path, source } => write!(f, "{}: {}", path.display(), source),
            UdllError::Format { path, message } => write!(f, "{}: {}", path.display(), message),
            UdllError::Shape(m) => write!(f, "shape mismatch: {m}"),
            UdllError::NonFinite(m) => write!(f, "non-finite values: {m}"),
            UdllError::Config(m) => write!(f, "invalid configuration: {m}"),
            UdllError::Numeric(m) => write!(f, "numerical failure: {m}"),
            UdllError::Mismatch(m) => write!(f, "not reproduced: {m}"),
            UdllError::OverBudget { what, needed: Some(b), budget, budget_source, advice } => write!(
                f,
                "invalid configuration: {what} needs {} of memory, above the budget of {} ({budget_source}; {advice})",
                human_bytes(*b),
                human_bytes(*budget)
            ),
            UdllError::OverBudget { what, needed: None, .. } => write!(f, "invalid configuration: {what} needs more memory than can be counted"),
        }
    }
}

impl std::error::Error for UdllError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            UdllError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// "78.1 GB" and the like (powers of 1000, as `ls -h --si` prints).
pub fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..1_000_000 => format!("{:.1} kB", b / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", b / 1e6),
        1_000_000_000..1_000_000_000_000 => format!("{:.1} GB", b / 1e9),
        _ => format!("{:.1} TB", b / 1e12),
    }
}
