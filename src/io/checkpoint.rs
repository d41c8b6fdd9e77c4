//! The udll checkpoint format, version 1. Little-endian throughout:
//!
//! ```text
//! magic      8 bytes  "UDLLCKPT"
//! version    u32      1
//! header     u32 length + JSON {kind, arch, meta}
//! tensors    u32 count, then per tensor:
//!              u32 name length, name (UTF-8), u32 rank, u64 dims…, f32 data
//! checksum   32 bytes SHA-256 of everything above
//! ```
//!
//! A file whose magic, version or checksum is wrong is refused with a clear
//! error before anything in it is used.

use crate::error::{Result, UdllError};
use crate::io::atomic::write_atomic;
use crate::io::hash::sha256_bytes;
use crate::nn::arch::AeArch;
use byteorder::{ByteOrder, LittleEndian as LE};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The first eight bytes of every checkpoint.
pub const MAGIC: &[u8; 8] = b"UDLLCKPT";
/// The format version this build writes and reads.
pub const VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq)]
/// A named tensor of f32 values.
pub struct Tensor {
    /// The parameter's name (`enc0.w`, …).
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its values, row-major.
    pub data: Vec<f32>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
struct Header {
    kind: String,
    arch: AeArch,
    meta: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq)]
/// A saved autoencoder: architecture, tensors and provenance.
pub struct Checkpoint {
    /// What the file holds: "autoencoder" (pretrained) or "finetuned".
    pub kind: String,
    /// The architecture the tensors belong to.
    pub arch: AeArch,
    /// Free-form provenance (method, seed, losses, source dataset, ...).
    pub meta: serde_json::Value,
    /// Every parameter.
    pub tensors: Vec<Tensor>,
}

impl Checkpoint {
    /// The input scale the weights were trained at (1 when not recorded).
    pub fn input_scale(&self) -> f32 {
        self.meta.get("input_scale").and_then(|v| v.as_f64()).unwrap_or(1.0) as f32
    }

    /// The tensor called `name`.
    pub fn tensor(&self, name: &str) -> Option<&Tensor> {
        self.tensors.iter().find(|t| t.name == name)
    }

    /// The file's bytes: magic, version, JSON header, tensors, SHA-256.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        let header = serde_json::to_vec(&Header { kind: self.kind.clone(), arch: self.arch.clone(), meta: self.meta.clone() }).expect("header serialises");
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&(self.tensors.len() as u32).to_le_bytes());
        for t in &self.tensors {
            out.extend_from_slice(&(t.name.len() as u32).to_le_bytes());
            out.extend_from_slice(t.name.as_bytes());
            out.extend_from_slice(&(t.shape.len() as u32).to_le_bytes());
            for &d in &t.shape {
                out.extend_from_slice(&(d as u64).to_le_bytes());
            }
            let start = out.len();
            out.resize(start + 4 * t.data.len(), 0);
            LE::write_f32_into(&t.data, &mut out[start..]);
        }
        let sum = sha256_bytes(&out);
        out.extend_from_slice(&sum);
        out
    }

    /// Parse a checkpoint read from `path`, refusing any that fails its checksum.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Self> {
        let bad = |m: String| UdllError::format(path, m);
        if bytes.len() < 8 || &bytes[..8] != MAGIC {
            return Err(bad("not a udll checkpoint (bad magic)".into()));
        }
        if bytes.len() < 8 + 4 + 4 + 4 + 32 {
            return Err(bad(format!("truncated checkpoint ({} bytes)", bytes.len())));
        }
        let version = LE::read_u32(&bytes[8..12]);
        if version != VERSION {
            return Err(bad(format!("checkpoint format version {version}; this udll reads version {VERSION}")));
        }
        let (body, sum) = bytes.split_at(bytes.len() - 32);
        if sha256_bytes(body) != sum {
            return Err(bad("checkpoint checksum mismatch: the file is corrupt or truncated".into()));
        }
        let mut pos = 12usize;
        let mut take = |n: usize| -> Result<&[u8]> {
            // Checked: a declared size near usize::MAX must not wrap past
            // the end check (AFL found one that did and panicked in the slice).
            let end = pos.checked_add(n).filter(|&e| e <= body.len()).ok_or_else(|| bad("checkpoint structure is inconsistent".into()))?;
            let s = &body[pos..end];
            pos = end;
            Ok(s)
        };
        let hlen = LE::read_u32(take(4)?) as usize;
        let header: Header = serde_json::from_slice(take(hlen)?).map_err(|e| bad(format!("checkpoint header is not valid: {e}")))?;
        header.arch.validate()?;
        let count = LE::read_u32(take(4)?) as usize;
        let mut tensors = Vec::new();
        for _ in 0..count {
            let nlen = LE::read_u32(take(4)?) as usize;
            let name = String::from_utf8(take(nlen)?.to_vec()).map_err(|_| bad("tensor name is not UTF-8".into()))?;
            let rank = LE::read_u32(take(4)?) as usize;
            if rank > 8 {
                return Err(bad(format!("tensor '{name}' has rank {rank}")));
            }
            let mut shape = Vec::with_capacity(rank);
            for _ in 0..rank {
                shape.push(LE::read_u64(take(8)?) as usize);
            }
            let numel = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(|| bad(format!("tensor '{name}' is too large")))?;
            let raw = take(numel.checked_mul(4).ok_or_else(|| bad("tensor too large".into()))?)?;
            let mut data = vec![0f32; numel];
            LE::read_f32_into(raw, &mut data);
            tensors.push(Tensor { name, shape, data });
        }
        if pos != body.len() {
            return Err(bad("checkpoint has trailing bytes".into()));
        }
        Ok(Checkpoint { kind: header.kind, arch: header.arch, meta: header.meta, tensors })
    }

    /// Write atomically to `path`.
    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomic(path, &self.to_bytes())
    }

    /// Read and check the checkpoint at `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| UdllError::io(path, e))?;
        Self::from_bytes(path, &bytes)
    }
}

/// Does this file start like a udll checkpoint?
pub fn is_checkpoint(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 8];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && &head == MAGIC
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs AFL found (fixtures/fuzz/): a tensor whose declared byte
    /// count wraps `pos + n` past the end check, which then panicked in the
    /// slice. Re-signed as the fuzz target does, they must be a clean error.
    #[test]
    fn declared_sizes_that_wrap_are_refused() {
        for bytes in
            [&include_bytes!("../../fixtures/fuzz/checkpoint-size-wraps.bin")[..], &include_bytes!("../../fixtures/fuzz/checkpoint-size-wraps-2.bin")[..]]
        {
            let mut signed = bytes.to_vec();
            signed.extend_from_slice(&sha256_bytes(bytes));
            let e = Checkpoint::from_bytes(Path::new("fuzz.ckpt"), &signed).unwrap_err().to_string();
            assert!(e.contains("inconsistent") || e.contains("too large"), "{e}");
        }
    }
}
