//! MAT-files through the whole dataset loader.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        let p = udll_fuzz::scratch_file("x.mat", data);
        let _ = udll::load_dataset(&p, &udll::LoadOptions::default());
    });
}
