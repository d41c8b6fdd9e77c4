//! NPY images, labels and matrices.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        let p = udll_fuzz::scratch_file("x.npy", data);
        let _ = udll::data::npy::read_npy_images(&p, None);
        let _ = udll::data::npy::read_npy_labels(&p, 6);
        let _ = udll::io::npy_out::read_npy_matrix(&p);
    });
}
