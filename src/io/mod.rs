//! Files the project writes and reads back: checkpoints, NPY/CSV outputs,
//! hashes, manifests, all written atomically, and the sink a run writes
//! its artefacts to (a directory, or memory).

pub mod atomic;
pub mod checkpoint;
pub mod hash;
pub mod labels;
pub mod manifest;
pub mod npy_out;
pub mod sink;

pub use atomic::{json_bytes, write_atomic, write_atomic_with, write_json};
pub use checkpoint::Checkpoint;
pub use sink::Sink;
