//! Writes a contact sheet of the synthetic dataset as a PGM-in-PNG-free
//! raw file for inspection: `cargo run --release --example dump_synthetic OUT.npy`.
use udll::data::{SyntheticSpec, generate};
use udll::io::npy_out::write_npy_f32;
fn main() {
    let out = std::env::args().nth(1).unwrap_or_else(|| "synthetic.npy".into());
    let ds = generate(&SyntheticSpec { objects: 6, poses: 8, ..Default::default() }).unwrap();
    write_npy_f32(std::path::Path::new(&out), &ds.pixels, ds.n, ds.image_len()).unwrap();
}
