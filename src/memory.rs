//! The memory budget: how many bytes one allocation plan may ask for. Sizes
//! that come from a file or a flag are checked against it before anything
//! is allocated, so an impossible request is a clear error, not an abort.
//!
//! The budget is `UDLL_MEMORY_BUDGET` (bytes, or with a K, M, G or T
//! suffix, powers of 1024) when set, else three quarters of the smallest
//! of what the process may use: the machine's memory (`MemTotal` of
//! /proc/meminfo), its control group's limit (cgroup v2 `memory.max`, v1
//! `memory.limit_in_bytes`, as a container sets it) and its address space
//! left under `ulimit -v` (`Max address space` of /proc/self/limits less
//! the `VmSize` already mapped); unbounded when none can be read.

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
    Ok(budget_and_source()?.0)
}

/// The budget and what set it, in words.
pub fn budget_and_source() -> Result<(u64, &'static str)> {
    if let Ok(v) = std::env::var(BUDGET_VAR) {
        let b = parse_bytes(&v).ok_or_else(|| UdllError::config(format!("{BUDGET_VAR}={v}: expected a size such as 8G or 512M")))?;
        return Ok((b, BUDGET_VAR));
    }
    let limits = [
        (mem_total(), "three quarters of the machine's memory"),
        (cgroup_limit(), "three quarters of the control group's memory limit"),
        (address_space_left(), "three quarters of the address space left under the process's limit (ulimit -v)"),
    ];
    Ok(limits.into_iter().filter_map(|(b, why)| b.map(|b| (b / 4 * 3, why))).min_by_key(|&(b, _)| b).unwrap_or((u64::MAX, "no limit could be read")))
}

/// The machine's memory in bytes.
fn mem_total() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/meminfo").ok()?;
    kb_field(&s, "MemTotal:")
}

/// The `key` line of a /proc status file, in kB, as bytes.
fn kb_field(text: &str, key: &str) -> Option<u64> {
    let l = text.lines().find(|l| l.starts_with(key))?;
    l[key.len()..].split_whitespace().next()?.parse::<u64>().ok()?.checked_mul(1024)
}

/// The memory limit of the process's control group (v2 `memory.max`, or
/// v1 `memory.limit_in_bytes`; its own group's file, else the mount's
/// root as a container shows it), when one is set.
fn cgroup_limit() -> Option<u64> {
    let groups = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let mut files = Vec::new();
    for line in groups.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next()) else { continue };
        if controllers.is_empty() {
            files.push(format!("/sys/fs/cgroup{path}/memory.max"));
        } else if controllers.split(',').any(|c| c == "memory") {
            files.push(format!("/sys/fs/cgroup/memory{path}/memory.limit_in_bytes"));
        }
    }
    files.extend(["/sys/fs/cgroup/memory.max".to_string(), "/sys/fs/cgroup/memory/memory.limit_in_bytes".to_string()]);
    files.iter().filter_map(|f| std::fs::read_to_string(f).ok()).filter_map(|s| parse_limit(&s)).min()
}

/// A cgroup limit file's value: none for "max" or v1's "no limit" (a
/// page-rounded i64::MAX).
fn parse_limit(text: &str) -> Option<u64> {
    let v = text.trim().parse::<u64>().ok()?;
    (v < 1 << 62).then_some(v)
}

/// The address space the process may still map under its `ulimit -v`
/// (RLIMIT_AS), when one is set.
fn address_space_left() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max address space"))?;
    let soft = line["Max address space".len()..].split_whitespace().next()?.parse::<u64>().ok()?;
    let mapped = std::fs::read_to_string("/proc/self/status").ok().and_then(|s| kb_field(&s, "VmSize:")).unwrap_or(0);
    Some(soft.saturating_sub(mapped))
}

/// Refuse a plan that needs `bytes` (None: the size overflowed) for `what`.
pub fn check(bytes: Option<u64>, what: &str) -> Result<()> {
    let (limit, source) = budget_and_source()?;
    match bytes {
        Some(b) if b <= limit => Ok(()),
        _ => {
            let advice = if source == BUDGET_VAR {
                "set it higher to allow more".to_string()
            } else {
                format!("set {BUDGET_VAR}, e.g. {BUDGET_VAR}=64G, to allow more")
            };
            Err(UdllError::OverBudget { what: what.to_string(), needed: bytes, budget: limit, budget_source: source, advice })
        }
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
        assert_eq!(crate::error::human_bytes(78_400_000_000), "78.4 GB");
    }

    #[test]
    fn limits_parse() {
        assert_eq!(parse_limit("max\n"), None);
        assert_eq!(parse_limit("9223372036854771712\n"), None, "cgroup v1 without a limit");
        assert_eq!(parse_limit("4294967296\n"), Some(4 << 30));
        assert_eq!(kb_field("VmSize:\t  1024 kB\nVmRSS: 8 kB\n", "VmSize:"), Some(1 << 20));
        // The budget is at most three quarters of what any source allows.
        if let (Some(t), Ok((b, _))) = (mem_total(), budget_and_source())
            && std::env::var(BUDGET_VAR).is_err()
        {
            assert!(b <= t / 4 * 3);
        }
    }
}
