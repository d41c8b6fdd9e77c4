//! Manifests.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        let p = udll_fuzz::scratch_file("manifest.json", data);
        let _ = udll::io::manifest::Manifest::load(&p);
    });
}
