//! Writes one small valid input per target into DIR/<target>/ (AFL's -i).
use udll::data::mat::{MatOut, Storage, mat_bytes};

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("usage: seeds DIR"));
    let put = |target: &str, name: &str, bytes: &[u8]| {
        let d = dir.join(target);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(name), bytes).unwrap();
    };
    let (n, d) = (6, 16);
    let fea: Vec<f64> = (0..n * d).map(|i| (i % 7) as f64 / 7.0).collect();
    let gnd: Vec<f64> = (0..n).map(|i| (i / 3 + 1) as f64).collect();
    for compressed in [false, true] {
        let vars = [
            MatOut { name: "fea", dims: vec![n, d], data: &fea, storage: Storage::Double },
            MatOut { name: "gnd", dims: vec![n, 1], data: &gnd, storage: Storage::Uint8 },
        ];
        put("mat", if compressed { "z.mat" } else { "plain.mat" }, &mat_bytes(&vars, compressed));
    }
    let npy = std::env::temp_dir().join("udll-fuzz-seed.npy");
    udll::io::npy_out::write_npy_f32(&npy, &fea.iter().map(|&v| v as f32).collect::<Vec<_>>(), n, d).unwrap();
    put("npy", "images.npy", &std::fs::read(&npy).unwrap());
    let arch = udll::AeArch { height: 8, width: 8, channels_in: 1, channels: vec![3], kernels: vec![3], final_relu: true };
    let ae = udll::ConvAutoencoder::<f32>::new(&arch).unwrap();
    let bytes = udll::Checkpoint::from_autoencoder(&ae, "autoencoder", serde_json::json!({"n": 6})).to_bytes();
    put("checkpoint", "small.ckpt", &bytes[..bytes.len() - 32]);
    put("graph", "g.csv", b"# udll prior graph (UDLL Eq. 17): n=4 k=1\nj,i,a_ij\n0,1,1e0\n1,0,1e0\n2,3,1e0\n3,2,1e0\n");
    let img = image::GrayImage::from_fn(12, 10, |x, y| image::Luma([(x * 20 + y * 7) as u8]));
    for ext in ["png", "jpg", "bmp", "tif", "pgm"] {
        let p = std::env::temp_dir().join(format!("udll-fuzz-seed.{ext}"));
        img.save(&p).unwrap();
        put("image", &format!("a.{ext}"), &std::fs::read(&p).unwrap());
    }
    let manifest = std::env::args().nth(2).map(|p| std::fs::read(p).unwrap());
    if let Some(m) = manifest {
        put("manifest", "manifest.json", &m);
    }
}
