//! Progress on long work, on stderr. On a terminal one line is rewritten in
//! place; otherwise (CI, pipes, logs) a plain line is printed every ~5 % of
//! the work and at the end, so logs stay short. `quiet` silences both.

use std::io::{IsTerminal, Write};
use std::time::Instant;

pub struct Progress {
    label: String,
    total: usize,
    tty: bool,
    quiet: bool,
    start: Instant,
    every: usize,
}

impl Progress {
    pub fn new(label: &str, total: usize, quiet: bool) -> Self {
        Progress { label: label.to_string(), total, tty: std::io::stderr().is_terminal(), quiet, start: Instant::now(), every: (total / 20).max(1) }
    }

    /// Report step `done` (1-based) of `total`, with a message.
    pub fn update(&self, done: usize, message: &str) {
        if self.quiet {
            return;
        }
        let secs = self.start.elapsed().as_secs_f64();
        let line = format!("[{}] {done}/{} {message} ({secs:.1}s)", self.label, self.total);
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[2K{line}");
            if done >= self.total {
                let _ = writeln!(err);
            }
        } else if done == 1 || done % self.every == 0 || done >= self.total {
            let _ = writeln!(err, "{line}");
        }
    }

    /// A one-off message on its own line.
    pub fn note(&self, message: &str) {
        if !self.quiet {
            eprintln!("[{}] {message}", self.label);
        }
    }

    pub fn seconds(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
}
