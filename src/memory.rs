//! The memory budget: how many bytes one allocation plan may ask for. Sizes
//! that come from a file or a flag are checked against it before anything
//! is allocated, so an impossible request is a clear error, not an abort.
//!
//! The budget is `UDLL_MEMORY_BUDGET` (bytes, or with a K, M, G or T
//! suffix, powers of 1024) when set, else three quarters of the machine's
//! memory (`MemTotal` of /proc/meminfo), else unbounded.

use crate::error::{Result, UdllError};

/// The environment variable that sets the budget.
pub const BUDGET_VAR: &str = "UDLL_MEMORY_BUDGET";

/// Parse "512M", "24G", "1000000" into bytes.
pub fn parse_bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let (digits, shift) = match s.chars().last()?.to_ascii_uppercase() {
        'K' => (&s[..s.len() - 1], 10),
        'M' => (&s[..s.len() - 1], 20),
        'G' => (&s[..s.len() - 1], 30),
        'T' => (&s[..s.len() - 1], 40),
        _ => (s, 0),
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(1u64 << shift)
}

/// The budget in bytes (see the module's doc); an error when the variable
/// is set but is not a size.
pub fn budget() -> Result<u64> {
    if let Ok(v) = std::env::var(BUDGET_VAR) {
        return parse_bytes(&v).ok_or_else(|| UdllError::config(format!("{BUDGET_VAR}={v}: expected a size such as 8G or 512M")));
    }
    let total_kb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("MemTotal:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok()));
    Ok(total_kb.map_or(u64::MAX, |kb| kb.saturating_mul(1024) / 4 * 3))
}

/// Refuse a plan that needs `bytes` (None: the size overflowed) for `what`.
pub fn check(bytes: Option<u64>, what: &str) -> Result<()> {
    let limit = budget()?;
    match bytes {
        Some(b) if b <= limit => Ok(()),
        Some(b) => Err(UdllError::config(format!(
            "{what} needs {} of memory, above the budget of {} (set {BUDGET_VAR}, e.g. {BUDGET_VAR}=64G, to allow more)",
            human(b),
            human(limit)
        ))),
        None => Err(UdllError::config(format!("{what} needs more memory than can be counted"))),
    }
}

/// "78.1 GB" and the like (powers of 1000, as `ls -h --si` prints).
fn human(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        0..1_000_000 => format!("{:.1} kB", b / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", b / 1e6),
        1_000_000_000..1_000_000_000_000 => format!("{:.1} GB", b / 1e9),
        _ => format!("{:.1} TB", b / 1e12),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_bytes("1000"), Some(1000));
        assert_eq!(parse_bytes("512M"), Some(512 << 20));
        assert_eq!(parse_bytes("24g"), Some(24 << 30));
        assert_eq!(parse_bytes("99999999999999T"), None, "overflow");
        assert_eq!(parse_bytes("lots"), None);
        assert_eq!(human(78_400_000_000), "78.4 GB");
    }
}
