//! Progress of long work, reported to an [`Observer`] that the caller
//! passes. The library prints nothing itself: the command line passes an
//! observer that writes to stderr, a library user passes [`Silent`] or
//! their own.

use std::time::Instant;

/// Receives what long-running library calls have to say.
///
/// Both methods have empty defaults, so an observer implements only what it
/// shows. Calls come from the thread that runs the work, in order.
pub trait Observer: Sync {
    /// Step `done` (1-based) of `total` of the task `task`, with a short
    /// message (the current loss, say) and the seconds since the task began.
    fn progress(&self, task: &str, done: usize, total: usize, message: &str, seconds: f64) {
        let _ = (task, done, total, message, seconds);
    }

    /// A one-off line: a stage beginning, a choice made, a note.
    fn line(&self, text: &str) {
        let _ = text;
    }
}

/// The observer that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Observer for Silent {}

/// One task's progress: a label, a step count and a clock, reporting to an
/// observer.
pub struct Progress<'a> {
    label: String,
    total: usize,
    start: Instant,
    observer: &'a dyn Observer,
}

impl<'a> Progress<'a> {
    /// Start the clock of task `label`, which takes `total` steps.
    pub fn new(label: &str, total: usize, observer: &'a dyn Observer) -> Self {
        Progress { label: label.to_string(), total, start: Instant::now(), observer }
    }

    /// Report step `done` (1-based) of `total`, with a message.
    pub fn update(&self, done: usize, message: &str) {
        self.observer.progress(&self.label, done, self.total, message, self.seconds());
    }

    /// A one-off message on its own line, tagged with the task's label.
    pub fn note(&self, message: &str) {
        self.observer.line(&format!("[{}] {message}", self.label));
    }

    /// Seconds since the task began.
    pub fn seconds(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Record(Mutex<Vec<String>>);

    impl Observer for Record {
        fn progress(&self, task: &str, done: usize, total: usize, message: &str, _: f64) {
            self.0.lock().unwrap().push(format!("{task} {done}/{total} {message}"));
        }
        fn line(&self, text: &str) {
            self.0.lock().unwrap().push(text.to_string());
        }
    }

    #[test]
    fn progress_reaches_the_observer_in_order() {
        let r = Record::default();
        let p = Progress::new("pretrain", 2, &r);
        p.update(1, "a");
        p.note("half way");
        p.update(2, "b");
        assert_eq!(*r.0.lock().unwrap(), ["pretrain 1/2 a", "[pretrain] half way", "pretrain 2/2 b"]);
        Progress::new("silent", 1, &Silent).update(1, "nothing to see");
    }
}
