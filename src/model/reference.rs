//! Import of the DSC-Net reference autoencoders (TensorFlow 1.x checkpoints
//! unpacked to raw little-endian f32 `.data` files with a `manifest.json`
//! giving each variable's role, shape and byte offset; see
//! ../shared/data/README.md).
//!
//! Layouts map one to one onto udll's: TF conv2d filters [kh, kw, in, out]
//! are our encoder filters, TF conv2d_transpose filters [kh, kw, out, in]
//! are our decoder filters, and `dec_w0` is the deepest decoder layer in
//! both. Only the biases need their roles from the manifest (TF saved them
//! as `Variable`, `Variable_1`, …).

use crate::error::{Result, UdllError};
use crate::model::autoencoder::{AeArch, ConvAutoencoder};
use crate::nn::HasParams;
use byteorder::{ByteOrder, LittleEndian as LE};
use std::path::Path;

/// Load reference model `name` (e.g. "coil20") from `dir` into an
/// autoencoder of architecture `arch`, checking every shape.
pub fn import_reference(dir: &Path, name: &str, arch: &AeArch) -> Result<ConvAutoencoder<f32>> {
    let manifest_path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest_path).map_err(|e| UdllError::io(&manifest_path, e))?;
    let manifest: serde_json::Value = serde_json::from_str(&text).map_err(|e| UdllError::format(&manifest_path, format!("not valid JSON: {e}")))?;
    let entry = manifest.get(name).ok_or_else(|| {
        let names: Vec<String> = manifest.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
        UdllError::format(&manifest_path, format!("no model '{name}' (the manifest has: {})", names.join(", ")))
    })?;
    let data_file = entry.get("data_file").and_then(|v| v.as_str()).ok_or_else(|| UdllError::format(&manifest_path, format!("'{name}' has no data_file")))?;
    let data_path = dir.join(data_file);
    let bytes = std::fs::read(&data_path).map_err(|e| UdllError::io(&data_path, e))?;
    let vars = entry.get("variables").and_then(|v| v.as_array()).ok_or_else(|| UdllError::format(&manifest_path, format!("'{name}' has no variables")))?;

    let mut ae = ConvAutoencoder::<f32>::new(arch)?;
    let n_layers = arch.channels.len();
    for p in ae.params_mut() {
        // Our names: enc{i}.weight / enc{i}.bias / dec{j}.weight / dec{j}.bias.
        let (layer, kind) = p.name.split_once('.').expect("parameter names are layer.kind");
        let role = match kind {
            "weight" => format!("{}_w{}", &layer[..3], &layer[3..]),
            _ => format!("{}_b{}", &layer[..3], &layer[3..]),
        };
        let v = vars.iter().find(|v| v.get("role").and_then(|r| r.as_str()) == Some(role.as_str())).ok_or_else(|| {
            UdllError::shape(format!("reference model '{name}' has no {role}; the preset's architecture ({n_layers} layers) does not match it"))
        })?;
        let shape: Vec<usize> =
            v.get("shape").and_then(|s| s.as_array()).map(|a| a.iter().filter_map(|x| x.as_u64()).map(|x| x as usize).collect()).unwrap_or_default();
        if shape != p.shape {
            return Err(UdllError::shape(format!(
                "reference {role} of '{name}' has shape {shape:?}; the architecture needs {:?} (use the matching preset)",
                p.shape
            )));
        }
        let off = v.get("byte_offset").and_then(|x| x.as_u64()).unwrap_or(u64::MAX) as usize;
        let size = 4 * p.len();
        if off.checked_add(size).is_none_or(|end| end > bytes.len()) {
            return Err(UdllError::format(&data_path, format!("{role} at offset {off} (+{size}) lies outside the {}-byte file", bytes.len())));
        }
        LE::read_f32_into(&bytes[off..off + size], &mut p.value);
    }
    let extra = vars.len().saturating_sub(ae.params().len());
    if extra > 0 {
        return Err(UdllError::shape(format!("reference model '{name}' has {extra} variables the architecture does not use")));
    }
    Ok(ae)
}
