//! `report.html`: written by `udll run` and `udll report`, self-contained
//! (every figure inline and also under figures/), the same bytes when
//! written again, refused with a clear error for a bad or partial run
//! directory, and — where Debian's `chromium` is installed (`.ci/run`
//! installs it) — rendered in headless Chromium with every figure loaded,
//! no script error and every section present.

mod common;

use base64::Engine;
use common::*;
use std::path::{Path, PathBuf};

/// The sections a report of a labelled run has.
const SECTIONS: &[&str] = &["run", "metrics", "losses", "coef", "confusion", "embedding", "clusters", "mistakes", "reconstructions"];

/// A small finished run with its report, in a scratch directory.
fn small_run(name: &str) -> PathBuf {
    let dir = scratch(name).join("run");
    let d = dir.to_str().unwrap();
    let o = run(&["run", "--synthetic-objects", "4", "--synthetic-poses", "10", "--pretrain-epochs", "8", "--epochs", "6", "--out", d, "--quiet"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    dir
}

/// Every `src="…"` of the page.
fn sources(html: &str) -> Vec<String> {
    html.split("src=\"").skip(1).map(|s| s[..s.find('"').unwrap()].to_string()).collect()
}

#[test]
fn run_writes_a_self_contained_report_that_report_rewrites_identically() {
    let dir = small_run("report-self-contained");
    let page = dir.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    for id in SECTIONS {
        assert!(html.contains(&format!("<section id=\"{id}\">")), "section {id} missing");
    }
    assert!(!html.contains("<script"), "the report runs no script");
    let srcs = sources(&html);
    let figures: Vec<_> = std::fs::read_dir(dir.join("figures")).unwrap().map(|e| e.unwrap().path()).collect();
    // 2 loss curves, 2 heat maps, the confusion, 2 scatters, 4 clusters,
    // the mistakes (at least one here) and the reconstructions.
    assert!(srcs.len() >= 12, "{} figures", srcs.len());
    assert_eq!(srcs.len(), figures.len(), "each inline figure is also a file");
    let b64 = base64::engine::general_purpose::STANDARD;
    for s in &srcs {
        let (kind, data) = s.split_once(";base64,").unwrap_or_else(|| panic!("not an inline data URI: {}", &s[..s.len().min(60)]));
        let bytes = b64.decode(data).unwrap();
        match kind {
            "data:image/png" => assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n"),
            "data:image/svg+xml" => assert!(bytes.starts_with(b"<svg"), "{}", String::from_utf8_lossy(&bytes[..40])),
            k => panic!("unexpected figure type {k}"),
        }
        assert!(figures.iter().any(|f| std::fs::read(f).unwrap() == bytes), "an inline figure has no file under figures/");
    }
    // Written again from the directory alone: the same page, byte for byte
    // (the images are read again from the run's recorded data).
    // Under 1 and 4 threads too (the PCA goes through the GEMM wrapper and
    // the eigensolver).
    for threads in ["1", "4"] {
        std::fs::remove_file(&page).unwrap();
        let o = run(&["report", dir.to_str().unwrap(), "--quiet"], &[("RAYON_NUM_THREADS", threads)]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(std::fs::read_to_string(&page).unwrap() == html, "the page differs when written again under {threads} threads");
    }
    // Without the images: the other sections, and a note.
    let o = run(&["report", dir.to_str().unwrap(), "--no-images", "--quiet"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let plain = std::fs::read_to_string(&page).unwrap();
    assert!(plain.contains("The images were not given") && !plain.contains("id=\"reconstructions\""));
}

#[test]
fn bad_or_partial_run_directories_are_refused_without_a_page() {
    let dir = small_run("report-bad-dirs");
    let d = dir.to_str().unwrap();
    let page = dir.join("report.html");
    let refused = |needle: &str| {
        let _ = std::fs::remove_file(&page);
        assert_clean_error(&run(&["report", d, "--quiet"], &[]), needle);
        assert!(!page.exists(), "no page after an error ({needle})");
    };
    // A file the run wrote, changed afterwards.
    let latent = dir.join("latent.npy");
    let good = std::fs::read(&latent).unwrap();
    let mut changed = good.clone();
    *changed.last_mut().unwrap() ^= 1;
    std::fs::write(&latent, &changed).unwrap();
    refused("latent.npy is not the file the run wrote");
    std::fs::write(&latent, &good).unwrap();
    // A file gone.
    let coef = dir.join("coef.npy");
    std::fs::rename(&coef, dir.join("coef.moved")).unwrap();
    refused("coef.npy is missing");
    std::fs::rename(dir.join("coef.moved"), &coef).unwrap();
    // A run that did not finish.
    std::fs::write(dir.join("udll-incomplete"), "").unwrap();
    refused("is not a finished run");
    std::fs::remove_file(dir.join("udll-incomplete")).unwrap();
    // No manifest, or no directory at all.
    std::fs::rename(dir.join("manifest.json"), dir.join("manifest.moved")).unwrap();
    refused("manifest.json is missing");
    std::fs::rename(dir.join("manifest.moved"), dir.join("manifest.json")).unwrap();
    assert_clean_error(&run(&["report", dir.join("nothing-here").to_str().unwrap()], &[]), "manifest.json is missing");
    // And once all is back, the page is written.
    let o = run(&["report", d, "--quiet"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(page.exists());
}

/// A run on an NPY file without labels, started with a relative path from
/// another directory: `udll report` finds the data from the run's own
/// directory, reports without the label sections, and refuses data that
/// changed since the run.
#[test]
fn report_reads_the_recorded_data_and_refuses_changed_data() {
    let root = scratch("report-recorded-data");
    let ds = udll::generate(&udll::SyntheticSpec { objects: 3, poses: 8, ..Default::default() }).unwrap();
    let npy = root.join("images.npy");
    udll::io::npy_out::write_npy_f32(&npy, &ds.pixels, ds.n, ds.image_len()).unwrap();
    let args = ["run", "--data", "images.npy", "--clusters", "3", "--pretrain-epochs", "5", "--epochs", "4", "--out", "out", "--quiet"];
    let o = udll().args(args).current_dir(&root).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let dir = root.join("out");
    let page = dir.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("no true labels") && !html.contains("id=\"confusion\"") && html.contains("id=\"reconstructions\""));
    std::fs::remove_file(&page).unwrap();
    // From elsewhere, by its absolute path: the relative data path is read
    // from the directory the run was started in.
    let o = run(&["report", dir.to_str().unwrap(), "--quiet"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(&page).unwrap() == html, "the page differs when written again");
    // The data changed since: refused, unless the images are left out.
    let mut changed = ds.pixels.clone();
    changed[0] = 1.0 - changed[0];
    udll::io::npy_out::write_npy_f32(&npy, &changed, ds.n, ds.image_len()).unwrap();
    std::fs::remove_file(&page).unwrap();
    assert_clean_error(&run(&["report", dir.to_str().unwrap()], &[]), "is not the file the run read");
    assert!(!page.exists());
    let o = run(&["report", dir.to_str().unwrap(), "--no-images", "--quiet"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::remove_file(&npy).unwrap();
    assert_clean_error(&run(&["report", dir.to_str().unwrap()], &[]), "is not there any more; give --no-images");
}

/// Debian's chromium, when installed.
fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"].iter().map(PathBuf::from).find(|p| p.exists())
}

/// Collects resource and script errors from the start, and once the page
/// has loaded writes what it found into `<pre id="udll-check">`.
const CHECKER: &str = r#"<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  var t = e.target;
  window.__errors.push(t && t.tagName ? 'resource ' + t.tagName + ' ' + (t.alt || '') : 'script: ' + e.message);
}, true);
window.addEventListener('load', function () {
  var imgs = [].slice.call(document.images);
  var broken = imgs.filter(function (i) { return !i.complete || i.naturalWidth === 0; }).map(function (i) { return i.alt; });
  var sections = [].slice.call(document.querySelectorAll('section')).map(function (s) { return s.id; });
  var out = document.createElement('pre');
  out.id = 'udll-check';
  out.textContent = JSON.stringify({images: imgs.length, broken: broken, errors: window.__errors, sections: sections});
  document.body.appendChild(out);
});
</script>"#;

/// Render `page` (with the checker injected, and `extra` appended to the
/// body) in headless Chromium and return what the checker found.
fn render(browser: &Path, page: &Path, extra: &str, scratch_dir: &Path) -> serde_json::Value {
    let html = std::fs::read_to_string(page).unwrap();
    let checked = html.replacen("<head>", &format!("<head>\n{CHECKER}"), 1).replacen("</body>", &format!("{extra}</body>"), 1);
    let copy = scratch_dir.join("checked.html");
    std::fs::write(&copy, checked).unwrap();
    let profile = scratch_dir.join("chromium-profile");
    let out = std::process::Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"])
        .args(["--disable-component-update", "--disable-sync", "--virtual-time-budget=10000", "--dump-dom"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("file://{}", copy.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout);
    let start =
        dom.find("<pre id=\"udll-check\">").unwrap_or_else(|| panic!("the checker wrote nothing; chromium said: {}", String::from_utf8_lossy(&out.stderr)));
    let body = &dom[start + "<pre id=\"udll-check\">".len()..];
    let json = body[..body.find("</pre>").unwrap()].replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&");
    serde_json::from_str(&json).unwrap()
}

#[test]
fn report_renders_in_headless_chromium_with_every_figure_loaded() {
    let Some(browser) = chromium() else {
        eprintln!("SKIPPED: chromium is not installed (apt-get install chromium); the report was not rendered in a browser");
        return;
    };
    let dir = small_run("report-chromium");
    let page = dir.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    let found = render(&browser, &page, "", dir.parent().unwrap());
    assert_eq!(found["images"].as_u64().unwrap() as usize, sources(&html).len(), "{found}");
    assert_eq!(found["broken"].as_array().unwrap().len(), 0, "broken figures: {found}");
    assert_eq!(found["errors"].as_array().unwrap().len(), 0, "errors: {found}");
    let sections: Vec<&str> = found["sections"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    assert_eq!(sections, SECTIONS, "{found}");
    // The check itself sees a broken figure and a script error.
    let planted = "<img alt=\"planted\" src=\"data:image/png;base64,AAAA\"><script>undefinedFunction();</script>";
    let found = render(&browser, &page, planted, dir.parent().unwrap());
    assert_eq!(found["broken"], serde_json::json!(["planted"]), "{found}");
    assert!(found["errors"].as_array().unwrap().iter().any(|e| e.as_str().unwrap().starts_with("script:")), "{found}");
}
