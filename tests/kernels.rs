//! GEMM kernel families on the command line (`--cpu-kernels`): every
//! family this CPU has gives the same run byte for byte, the manifest
//! names the family that ran, and `udll audit` re-runs with it.

mod common;

use common::*;

const SMALL: &[&str] = &["--synthetic-objects", "4", "--synthetic-poses", "12", "--pretrain-epochs", "8", "--epochs", "6", "--quiet", "--no-report"];

#[test]
fn every_kernel_family_gives_the_same_run_and_the_manifest_names_it() {
    let root = scratch("kernel-families");
    let families: Vec<&str> = udll::kernels::KernelFamily::ALL.iter().filter(|f| f.available()).map(|f| f.name()).collect();
    let mut first: Option<(String, Vec<Vec<u8>>)> = None;
    for family in &families {
        let out = root.join(family);
        let mut args = vec!["run", "--cpu-kernels", family, "--out", out.to_str().unwrap()];
        args.extend(SMALL);
        let o = run(&args, &[]);
        assert!(o.status.success(), "{family}: {}", stderr(&o));
        let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(manifest["kernel_family"], *family, "the manifest names the family that ran");
        let bytes: Vec<Vec<u8>> = ["coef.npy", "latent.npy", "labels.csv", "finetuned.ckpt"].iter().map(|a| std::fs::read(out.join(a)).unwrap()).collect();
        match &first {
            None => first = Some((family.to_string(), bytes)),
            Some((f0, b0)) => assert!(b0 == &bytes, "{family} kernels wrote other bytes than {f0} kernels"),
        }
        let o = run(&["audit", out.to_str().unwrap(), "--threads", "1,2"], &[]);
        assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
        assert!(stdout(&o).contains(&format!("{family} kernels")), "the audit re-runs with the recorded family: {}", stdout(&o));
    }
    // A run recorded with kernels this machine cannot run: the audit says
    // so instead of comparing other kernels' bits.
    let out = root.join(families[0]);
    let path = out.join("manifest.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace(&format!("\"kernel_family\": \"{}\"", families[0]), "\"kernel_family\": \"sve2\"")).unwrap();
    assert_clean_error(&run(&["audit", out.to_str().unwrap()], &[]), "the run used the sve2 GEMM kernels and this machine cannot run them");
    if families.len() == 1 {
        eprintln!("SKIPPED the comparison between families: this CPU has only {}", families[0]);
    }
}

#[test]
fn an_unknown_or_unavailable_kernel_family_is_refused() {
    let root = scratch("kernel-refused");
    let out = root.join("run");
    let mut args = vec!["run", "--cpu-kernels", "fastest", "--out", out.to_str().unwrap()];
    args.extend(SMALL);
    assert_clean_error(&run(&args, &[]), "unknown CPU kernel family 'fastest'");
    assert!(!out.exists(), "nothing is written");
    if !udll::kernels::KernelFamily::Avx512.available() {
        args[2] = "avx512";
        assert_clean_error(&run(&args, &[]), "this CPU cannot run the avx512 kernels");
    }
}
