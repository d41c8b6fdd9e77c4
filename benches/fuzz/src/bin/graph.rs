//! Prior graph CSV.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        let _ = udll::PriorGraph::from_csv(std::path::Path::new("fuzz.csv"), &String::from_utf8_lossy(data));
    });
}
