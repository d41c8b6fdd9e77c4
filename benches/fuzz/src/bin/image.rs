//! Image files as a folder holds them: the bytes under each extension a
//! folder is read by (PNG, JPEG, BMP, TIFF, PGM), decoded as `--data DIR`
//! decodes them.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        let dir = std::env::temp_dir().join(format!("udll-fuzz-{}-folder", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        for ext in ["png", "jpg", "bmp", "tif", "pgm"] {
            let name = format!("a.{ext}");
            std::fs::write(dir.join(&name), data).expect("the scratch folder is writable");
            let _ = udll::data::folder::load_folder_files(&dir, &[name.clone()], &udll::FolderOptions::default(), None);
            let _ = std::fs::remove_file(dir.join(&name));
        }
    });
}
