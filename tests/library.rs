//! The library's front door (`udll::fit`, `Fitted`): the same labels as
//! `udll run` for the same seed, nothing written until `save`, and a saved
//! fit is a run directory the command line reads.

mod common;
use common::*;
use udll::{Coefficients, Dataset, FitOptions, Fitted, Plan, Silent, SyntheticSpec, fit, generate, preset};

fn params(seed: u64) -> udll::ValidUdllParams {
    let mut p = preset("synthetic").unwrap();
    p.pretrain.epochs = 6;
    p.finetune.epochs = 4;
    p.seed = seed;
    p.check().unwrap()
}

const CLI: &[&str] =
    &["--preset", "synthetic", "--synthetic-objects", "4", "--synthetic-poses", "10", "--pretrain-epochs", "6", "--epochs", "4", "--quiet", "--no-report"];

fn cli_labels(dir: &std::path::Path) -> Vec<usize> {
    let (pred, _) = udll::io::labels::read_labels_csv(&dir.join("labels.csv")).unwrap();
    pred
}

#[test]
fn fit_gives_the_cli_labels_and_saves_a_run_directory() {
    let root = scratch("library_fit");
    let ds = generate(&SyntheticSpec { objects: 4, poses: 10, seed: 3, ..Default::default() }).unwrap();
    let before: Vec<_> = std::fs::read_dir(&root).unwrap().collect();
    let fitted = fit(&ds, &params(3), &FitOptions::default(), &Silent).unwrap();
    assert!(before.is_empty() && std::fs::read_dir(&root).unwrap().next().is_none(), "fit writes nothing");

    let cli = root.join("cli");
    let mut args = vec!["run", "--seed", "3", "--out", cli.to_str().unwrap()];
    args.extend(CLI);
    let o = run(&args, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(fitted.labels(), cli_labels(&cli), "the library's labels are the command's");
    // Every artefact is the command's, byte for byte (metrics.json holds
    // wall times; its scores are compared instead).
    for name in ["coef.npy", "latent.npy", "labels.csv", "finetuned.ckpt", "graph.csv"] {
        assert_eq!(fitted.artefact(name).unwrap(), std::fs::read(cli.join(name)).unwrap(), "{name}");
    }
    let Coefficients::Dense { values, n } = fitted.coefficients().unwrap() else { panic!("a dense run") };
    assert_eq!((values.len(), n), (1600, 40));
    let (codes, n, d) = fitted.codes().unwrap();
    assert_eq!((codes.len(), n), (n * d, 40));

    // Saved: the CLI assigns with it; loaded back: the same labels, and
    // placing images gives what `udll assign` gives.
    let saved = root.join("saved");
    fitted.save(&saved).unwrap();
    let loaded = Fitted::load(&saved).unwrap();
    assert_eq!(loaded.labels(), fitted.labels());
    assert_eq!(loaded.scores().map(|s| s.acc), fitted.scores().map(|s| s.acc));
    let assigned = root.join("assigned");
    let o = run(
        &[
            "assign",
            "--model",
            saved.to_str().unwrap(),
            "--synthetic-objects",
            "4",
            "--synthetic-poses",
            "10",
            "--synthetic-seed",
            "3",
            "--out",
            assigned.to_str().unwrap(),
            "--quiet",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let placed = loaded.assign(&ds, &Silent).unwrap();
    assert_eq!(placed.labels, cli_labels(&assigned));
    assert_eq!(fitted.assign(&ds, &Silent).unwrap().labels, placed.labels);
    // A saved fit has no command line: audit says so, cleanly.
    assert_clean_error(&run(&["audit", saved.to_str().unwrap()], &[]), "made through the library");
}

/// The plan lives in the library: restarts with landmarks are refused,
/// whoever asks, and a bad array shape is a shape error.
#[test]
fn the_plan_and_the_inputs_are_checked_by_the_library() {
    let ds = generate(&SyntheticSpec { objects: 3, poses: 8, ..Default::default() }).unwrap();
    let opts = FitOptions { plan: Plan { landmarks: Some(12), restarts: 2, ..Default::default() }, ..Default::default() };
    let e = fit(&ds, &params(0), &opts, &Silent).err().expect("refused");
    assert!(matches!(e, udll::UdllError::Config(_)) && e.to_string().contains("2 restarts in landmark mode"), "{e}");
    let flat = ndarray::Array2::<f32>::zeros((4, 9));
    let e = Dataset::from_array("flat", flat.view().into_dyn(), None).unwrap_err();
    assert!(matches!(e, udll::UdllError::Shape(_)), "{e}");
    let neg = ndarray::Array3::<f32>::from_elem((2, 4, 4), -1.0);
    assert!(Dataset::from_array("neg", neg.view().into_dyn(), None).is_err());
    // 0..255 arrays are scaled as the file readers scale them.
    let bytes = ndarray::Array4::<f32>::from_shape_fn((2, 4, 4, 3), |(i, y, x, c)| (i * 50 + y * 10 + x + c) as f32);
    let ds = Dataset::from_array("rgb", bytes.view().into_dyn(), Some(&[7, 9])).unwrap();
    assert_eq!((ds.channels, ds.labels.as_deref()), (3, Some(&[0usize, 1][..])));
    assert!(ds.pixels.iter().all(|v| (0.0..=1.0).contains(v)) && ds.pixels[1] == 1.0 / 255.0);
}

/// A landmark fit keeps its landmarks' codes; with `Codes::Model` it keeps
/// no n × d file, and it places images as before. A run made before
/// `landmark_codes.npy` existed (its landmarks' rows only in `latent.npy`)
/// builds the same model.
#[test]
fn a_landmark_fit_places_images_from_its_landmarks_codes() {
    use udll::app::assign::{AssignModel, DEFAULT_RIDGE};
    let ds = generate(&SyntheticSpec { objects: 4, poses: 20, seed: 1, ..Default::default() }).unwrap();
    let plan = Plan { landmarks: Some(30), ..Default::default() };
    let full = fit(&ds, &params(1), &FitOptions { plan, ..Default::default() }, &Silent).unwrap();
    let lean = fit(&ds, &params(1), &FitOptions { plan, codes: udll::Codes::Model, ..Default::default() }, &Silent).unwrap();
    assert_eq!(full.labels(), lean.labels());
    assert!(lean.artefact("latent.npy").is_none() && lean.artefact("latent_pretrained.npy").is_none());
    assert!(full.artefact("latent.npy").is_some() && lean.artefact("landmark_codes.npy") == full.artefact("landmark_codes.npy"));
    let new = generate(&SyntheticSpec { objects: 4, poses: 20, seed: 9, ..Default::default() }).unwrap();
    let want = full.assign(&new, &Silent).unwrap().labels;
    assert_eq!(lean.assign(&new, &Silent).unwrap().labels, want);
    let old = |name: &str| Ok(if name == "landmark_codes.npy" { None } else { full.artefact(name).map(<[u8]>::to_vec) });
    let model = AssignModel::from_artefacts(full.config(), &old, std::path::Path::new("old"), DEFAULT_RIDGE).unwrap();
    assert_eq!(model.fitted_shape().0, 30);
    assert_eq!(model.read_from()[0], "latent.npy");
    assert_eq!(model.place(&new, &Silent).unwrap().1, want);
    assert!(lean.codes().is_err(), "a lean fit has no codes to give");
}
