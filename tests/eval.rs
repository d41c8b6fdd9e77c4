//! `udll eval` on any NPY feature file: every task runs, separable features
//! score high and shuffled labels do not, and bad input is a clean error.

mod common;
use common::*;
use udll::internal::Rng;

/// Features of 4 well-separated blobs (n × d) and a labels.csv for them.
fn blobs(dir: &std::path::Path, shuffle_labels: bool) -> (std::path::PathBuf, std::path::PathBuf) {
    let (n, d, k) = (80, 6, 4);
    let mut r = Rng::from_seed(3);
    let labels: Vec<usize> = (0..n).map(|i| i % k).collect();
    let f: Vec<f32> = (0..n * d).map(|i| (10.0 * ((labels[i / d] + i % d) % k) as f64 + r.normal()) as f32).collect();
    let fp = dir.join("features.npy");
    udll::io::npy_out::write_npy_f32(&fp, &f, n, d).unwrap();
    let mut truth = labels.clone();
    if shuffle_labels {
        r.shuffle(&mut truth);
    }
    let mut csv = String::from("index,predicted,true\n");
    truth.iter().enumerate().for_each(|(i, t)| csv += &format!("{i},0,{t}\n"));
    let lp = dir.join(if shuffle_labels { "shuffled.csv" } else { "labels.csv" });
    std::fs::write(&lp, csv).unwrap();
    (fp, lp)
}

fn scores(o: &std::process::Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", stderr(o));
    serde_json::Value::Null
}

#[test]
fn every_task_scores_separable_features_and_not_shuffled_labels() {
    let dir = scratch("eval");
    let (f, l) = blobs(&dir, false);
    let out = dir.join("scores.json");
    let o = run(
        &[
            "eval",
            "--features",
            f.to_str().unwrap(),
            "--labels",
            l.to_str().unwrap(),
            "--task",
            "kmeans,spectral,map,probe",
            "--map-k",
            "10,40",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    scores(&o);
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let r = &doc["results"];
    for task in ["kmeans", "spectral"] {
        assert!(r[task]["acc"].as_f64().unwrap() > 0.95, "{task}: {}", r[task]);
    }
    assert!(r["map"]["map@10"].as_f64().unwrap() > 0.95, "{}", r["map"]);
    assert!(r["probe"]["test_accuracy"].as_f64().unwrap() > 0.95, "{}", r["probe"]);
    assert!(out.with_file_name("scores.json.manifest.json").exists());

    let (_, shuffled) = blobs(&dir, true);
    let o = run(
        &[
            "eval",
            "--features",
            f.to_str().unwrap(),
            "--labels",
            shuffled.to_str().unwrap(),
            "--task",
            "kmeans,map,probe",
            "--map-k",
            "10",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    scores(&o);
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let r = &doc["results"];
    assert!(r["kmeans"]["acc"].as_f64().unwrap() < 0.6, "{}", r["kmeans"]);
    assert!(r["map"]["map@10"].as_f64().unwrap() < 0.6);
    assert!(r["probe"]["test_accuracy"].as_f64().unwrap() < 0.6);
}

/// EDSC clusters points drawn from independent linear subspaces.
#[test]
fn edsc_separates_subspaces() {
    let dir = scratch("eval_edsc");
    let (n, d, k, dim) = (80, 20, 4, 2);
    let mut r = Rng::from_seed(5);
    let bases: Vec<Vec<f64>> = (0..k).map(|_| (0..d * dim).map(|_| r.normal()).collect()).collect();
    let f: Vec<f32> = (0..n)
        .flat_map(|i| {
            let (b, a): (&Vec<f64>, Vec<f64>) = (&bases[i % k], (0..dim).map(|_| r.normal()).collect());
            (0..d).map(move |j| (0..dim).map(|c| b[j * dim + c] * a[c]).sum::<f64>() as f32).collect::<Vec<_>>()
        })
        .collect();
    let fp = dir.join("sub.npy");
    udll::io::npy_out::write_npy_f32(&fp, &f, n, d).unwrap();
    let mut csv = String::from("index,predicted,true\n");
    (0..n).for_each(|i| csv += &format!("{i},0,{}\n", i % k));
    let lp = dir.join("labels.csv");
    std::fs::write(&lp, csv).unwrap();
    let out = dir.join("s.json");
    let o = run(
        &[
            "eval",
            "--features",
            fp.to_str().unwrap(),
            "--labels",
            lp.to_str().unwrap(),
            "--task",
            "edsc",
            "--preset",
            "orl",
            "--edsc-lambda",
            "0.01",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    scores(&o);
    let doc: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert!(doc["results"]["edsc"]["acc"].as_f64().unwrap() > 0.95, "{}", doc["results"]["edsc"]);
}

#[test]
fn eval_errors_are_clean() {
    let dir = scratch("eval_errors");
    let (f, _) = blobs(&dir, false);
    assert_clean_error(&run(&["eval", "--features", f.to_str().unwrap()], &[]), "--labels");
    assert_clean_error(&run(&["eval", "--features", f.to_str().unwrap(), "--labels", f.to_str().unwrap(), "--task", "tsne"], &[]), "--task");
    let short = dir.join("short.csv");
    std::fs::write(&short, "index,predicted,true\n0,0,1\n").unwrap();
    assert_clean_error(&run(&["eval", "--features", f.to_str().unwrap(), "--labels", short.to_str().unwrap()], &[]), "1 labels for 80 samples");
}
