//! Files the project writes and reads back: checkpoints, NPY/CSV outputs,
//! hashes, manifests, all written atomically.

pub mod atomic;
pub mod checkpoint;
pub mod hash;
pub mod labels;
pub mod manifest;
pub mod npy_out;

pub use atomic::{write_atomic, write_atomic_with, write_json};
pub use checkpoint::Checkpoint;
