//! Checkpoints, re-signed so that the parser behind the checksum is reached,
//! and the autoencoder built from them.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        let mut signed = data.to_vec();
        signed.extend_from_slice(&udll::io::hash::sha256_bytes(data));
        let path = std::path::Path::new("fuzz.ckpt");
        if let Ok(c) = udll::Checkpoint::from_bytes(path, &signed) {
            let _ = c.autoencoder(path);
        }
    });
}
