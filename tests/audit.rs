//! `udll audit`: a recorded run re-runs to the same bytes; a changed
//! artefact or input is caught and named.

mod common;
use common::*;
use std::path::Path;

fn small_run(out: &Path) {
    let o = run(
        &[
            "run",
            "--synthetic-objects",
            "4",
            "--synthetic-poses",
            "10",
            "--pretrain-epochs",
            "8",
            "--epochs",
            "6",
            "--seed",
            "2",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_run_audits_clean_under_one_and_two_threads() {
    let dir = scratch("audit_clean");
    let out = dir.join("a");
    small_run(&out);
    let o = run(&["audit", out.to_str().unwrap(), "--threads", "1,2"], &[]);
    let text = stdout(&o);
    assert!(o.status.success(), "{text}\n{}", stderr(&o));
    // Every artefact the run wrote (candidates.csv only with --auto-post).
    for name in udll::app::pipeline::RUN_ARTEFACTS.iter().filter(|n| out.join(n).exists()) {
        let line = text.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("no row for {name}: {text}"));
        assert!(line.ends_with("same"), "{line}");
    }
    assert!(!text.contains("DIFFERENT"));
    assert!(!text.contains("CPU features differ"));

    // A manifest recorded on another CPU family: said up front.
    let mpath = out.join("manifest.json");
    let mut m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&mpath).unwrap()).unwrap();
    m["cpu_kernel_features"] = serde_json::json!(["some-other-cpu"]);
    std::fs::write(&mpath, serde_json::to_string(&m).unwrap()).unwrap();
    let o = run(&["audit", out.to_str().unwrap()], &[]);
    let first_lines: Vec<String> = stdout(&o).lines().take(2).map(String::from).collect();
    assert!(first_lines[1].starts_with("note: CPU features differ"), "{first_lines:?}");
}

#[test]
fn a_flipped_byte_fails_the_audit_and_names_the_artefact() {
    let dir = scratch("audit_flip");
    let out = dir.join("a");
    small_run(&out);
    let coef = out.join("coef.npy");
    let mut bytes = std::fs::read(&coef).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    std::fs::write(&coef, bytes).unwrap();
    let o = run(&["audit", out.to_str().unwrap()], &[]);
    assert_clean_error(&o, "coef.npy");
    let row = stdout(&o).lines().find(|l| l.starts_with("coef.npy")).unwrap().to_string();
    assert!(row.ends_with("DIFFERENT"), "{row}");
    // The other artefacts are still the same.
    assert!(stdout(&o).lines().find(|l| l.starts_with("labels.csv")).unwrap().ends_with("same"));
}

#[test]
fn single_file_commands_audit_through_their_manifest_and_changed_inputs_are_refused() {
    let dir = scratch("audit_file");
    let ckpt = dir.join("ae.ckpt");
    let pretrain = |seed: &str| {
        let o = run(
            &["pretrain", "--synthetic-objects", "3", "--synthetic-poses", "6", "--epochs", "3", "--seed", seed, "--out", ckpt.to_str().unwrap(), "--quiet"],
            &[],
        );
        assert!(o.status.success(), "{}", stderr(&o));
    };
    pretrain("1");
    assert!(dir.join("ae.ckpt.manifest.json").exists());
    let o = run(&["audit", ckpt.to_str().unwrap(), "--threads", "2"], &[]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));

    let graph = dir.join("graph.csv");
    let o =
        run(&["graph", "--checkpoint", ckpt.to_str().unwrap(), "--synthetic-objects", "3", "--synthetic-poses", "6", "--out", graph.to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["audit", dir.join("graph.csv.manifest.json").to_str().unwrap()], &[]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    // Another seed rewrites the checkpoint the graph was built from.
    pretrain("2");
    let o = run(&["audit", graph.to_str().unwrap()], &[]);
    assert_clean_error(&o, "has changed");
}

#[test]
fn audit_of_a_directory_without_manifest_is_a_clean_error() {
    let dir = scratch("audit_none");
    let o = run(&["audit", dir.to_str().unwrap()], &[]);
    assert_clean_error(&o, "manifest.json");
}

/// A rerun into a finished run's directory that fails halfway leaves no
/// manifest or metrics of the earlier run beside its own new files (they
/// used to stay and describe another run), and the directory says it is
/// incomplete: audit refuses it.
#[test]
fn a_failed_rerun_leaves_an_unambiguous_directory() {
    let dir = scratch("failed_rerun");
    let out = dir.join("run");
    let o = out.to_str().unwrap();
    let synth = ["--synthetic-objects", "3", "--synthetic-poses", "4", "--pretrain-epochs", "3", "--epochs", "3", "--quiet"];
    let mut args = vec!["run", "--out", o];
    args.extend(synth);
    let first = run(&args, &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(out.join("manifest.json").exists() && !out.join("udll-incomplete").exists());
    args.extend(["--lr", "1e9"]);
    let failed = run(&args, &[]);
    assert!(!failed.status.success());
    assert!(!out.join("manifest.json").exists(), "the earlier run's manifest survived beside new artefacts");
    assert!(!out.join("metrics.json").exists(), "the earlier run's metrics survived");
    assert!(out.join("udll-incomplete").exists());
    assert_clean_error(&run(&["audit", o], &[]), "is not a finished run");
}

/// The README's first command writes to the default `udll-run` (no
/// `--out` typed); `udll audit udll-run` re-runs it into a directory of
/// its own and passes.
#[test]
fn a_run_without_out_audits_clean() {
    let dir = scratch("audit_default_out");
    let o = udll()
        .current_dir(&dir)
        .args(["run", "--synthetic-objects", "4", "--synthetic-poses", "8", "--pretrain-epochs", "6", "--epochs", "4", "--quiet", "--no-report"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(dir.join("udll-run/manifest.json").exists());
    let o = udll().current_dir(&dir).args(["audit", "udll-run", "--threads", "1,2"]).output().unwrap();
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("all"), "{}", stdout(&o));
}
