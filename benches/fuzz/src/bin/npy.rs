//! NPY images, labels and matrices, and an NPY read by rows (a slice and
//! a gather, as `--fit-sample` and `udll assign --shard` read it).
fn main() {
    afl::fuzz!(|data: &[u8]| {
        let p = udll_fuzz::scratch_file("x.npy", data);
        let _ = udll::data::npy::read_npy_images(&p, None);
        let _ = udll::data::npy::read_npy_labels(&p, 6);
        let _ = udll::io::npy_out::read_npy_matrix(&p);
        if let Ok(src) = udll::data::stream::ImageSource::open(&p, &udll::LoadOptions::default()) {
            let _ = src.slice(src.n / 2..src.n);
            let _ = src.gather(&[0, src.n.saturating_sub(1)]);
        }
    });
}
