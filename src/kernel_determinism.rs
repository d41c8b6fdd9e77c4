//! Determinism of every parallel kernel, one by one, across thread counts
//! (a test module of the crate: the kernels are not public).
//!
//! The thread counts of both pools (rayon and matrixmultiply's own) are
//! fixed at process start-up, so the parent test re-runs this test binary
//! as a child under RAYON_NUM_THREADS = MATMUL_NUM_THREADS = 1, 2 and 4. The
//! child computes each kernel on fixed pseudo-random inputs — sizes large
//! enough that the work really is split across threads — and prints one
//! SHA-256 per kernel; the parent requires the same hash under every count.

use crate::io::hash::sha256_hex;
use crate::linalg::Real;
use crate::rng::Rng;
use std::collections::BTreeMap;

const CHILD_ENV: &str = "UDLL_KERNEL_HASH_CHILD";

fn random(n: usize, seed: u64) -> Vec<f64> {
    let mut r = Rng::from_seed(seed);
    (0..n).map(|_| r.normal()).collect()
}

fn random_f32(n: usize, seed: u64) -> Vec<f32> {
    random(n, seed).into_iter().map(|v| v as f32).collect()
}

fn hash<T: Real>(v: &[T]) -> String {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_f64().to_le_bytes()).collect();
    sha256_hex(&bytes)
}

fn hash_usize(v: &[usize]) -> String {
    sha256_hex(&v.iter().flat_map(|x| (*x as u64).to_le_bytes()).collect::<Vec<_>>())
}

/// Points around k centres, for the clustering kernels.
fn blobs(n: usize, d: usize, k: usize, seed: u64) -> Vec<f64> {
    let centres = random(k * d, seed);
    let noise = random(n * d, seed + 1);
    (0..n * d).map(|i| 6.0 * centres[(i / d % k) * d + i % d] + noise[i]).collect()
}

/// Every kernel's output hash, by name.
fn kernel_hashes() -> BTreeMap<&'static str, String> {
    use crate::linalg::gemm::{dgemm_family, sgemm_family};
    use crate::linalg::kernels::KernelFamily;
    use crate::linalg::{Trans, dgemm, sgemm};
    let mut h = BTreeMap::new();

    let (m, k, n) = (300, 257, 411);
    let (a, b) = (random_f32(m * k, 1), random_f32(k * n, 2));
    let (a64, b64) = (random(k * m, 4), random(n * k, 5));
    // Each kernel family this CPU has, by name, and the process default.
    for family in KernelFamily::ALL.into_iter().filter(|f| f.available()) {
        let mut c = random_f32(m * n, 3);
        sgemm_family(family, m, k, n, 1.5, &a, Trans::No, &b, Trans::No, 0.5, &mut c);
        let mut c64 = vec![0.0; m * n];
        dgemm_family(family, m, k, n, 1.0, &a64, Trans::Yes, &b64, Trans::Yes, 0.0, &mut c64);
        let (s, d) = match family {
            KernelFamily::Portable => ("sgemm (portable kernels)", "dgemm (portable kernels, transposed operands)"),
            KernelFamily::Avx512 => ("sgemm (avx512 kernels)", "dgemm (avx512 kernels, transposed operands)"),
            KernelFamily::Avx2 => ("sgemm (avx2 kernels)", "dgemm (avx2 kernels, transposed operands)"),
        };
        h.insert(s, hash(&c));
        h.insert(d, hash(&c64));
    }
    let mut c = random_f32(m * n, 3);
    sgemm(m, k, n, 1.5, &a, Trans::No, &b, Trans::No, 0.5, &mut c);
    h.insert("sgemm", hash(&c));
    let mut c64 = vec![0.0; m * n];
    dgemm(m, k, n, 1.0, &a64, Trans::Yes, &b64, Trans::Yes, 0.0, &mut c64);
    h.insert("dgemm (transposed operands)", hash(&c64));

    let big = random_f32(1_000_003, 6);
    h.insert("sum_map", hash(&[crate::linalg::reduce::sum_map(&big, |v| (v as f64) * (v as f64))]));
    let mut cols = vec![0f32; 1000];
    crate::linalg::reduce::add_column_sums(&big[..1_000_000], 1000, 1000, &mut cols);
    h.insert("add_column_sums", hash(&cols));

    let batch = 48;
    let mut conv = crate::nn::Conv2d::<f32>::new("c", 32, 32, 1, 15, (3, 3), 2);
    use crate::nn::HasParams;
    for (i, p) in conv.params_mut().into_iter().enumerate() {
        p.value = random_f32(p.len(), 10 + i as u64);
    }
    let x = random_f32(batch * 32 * 32, 7);
    let y = conv.forward(&x, batch);
    let dx = conv.backward(&y, true).unwrap();
    h.insert("conv2d forward", hash(&y));
    h.insert("conv2d backward (dx)", hash(&dx));
    h.insert("conv2d backward (dw, db)", hash(&conv.params_mut().iter().flat_map(|p| p.grad.clone()).collect::<Vec<_>>()));
    let mut deconv = crate::nn::ConvTranspose2d::<f32>::new("d", 32, 32, 1, 15, (3, 3), 2);
    for (i, p) in deconv.params_mut().into_iter().enumerate() {
        p.value = random_f32(p.len(), 20 + i as u64);
    }
    let r = deconv.forward(&y, batch);
    let dy = deconv.backward(&r, true).unwrap();
    h.insert("conv_transpose2d forward", hash(&r));
    h.insert("conv_transpose2d backward", hash(&[dy, deconv.params_mut().iter().flat_map(|p| p.grad.clone()).collect()].concat()));

    let (ns, d) = (700, 96);
    let z = random_f32(ns * d, 30);
    let mut se = crate::model::self_expressive::SelfExpressive::<f32>::new(ns, 1e-3, false);
    se.coef.value = random_f32(ns * ns, 31);
    let zh = se.forward(&z, d);
    let dz = se.backward(&zh);
    h.insert("self-expressive forward", hash(&zh));
    h.insert("self-expressive backward", hash(&[dz, se.coef.grad.clone()].concat()));

    let (nk, dk) = (900, 40);
    let pts = blobs(nk, dk, 9, 40);
    let pts32: Vec<f32> = pts.iter().map(|&v| v as f32).collect();
    let nb = crate::graph::knn::k_nearest(&pts32, nk, dk, 5).unwrap();
    h.insert("k nearest neighbours", hash(&nb.iter().flatten().flat_map(|&(j, d)| [j as f64, d]).collect::<Vec<_>>()));
    let g = crate::graph::adaptive_neighbour_graph(&pts32, nk, dk, 5).unwrap();
    h.insert("prior graph (Eq. 17)", sha256_hex(g.to_csv().as_bytes()));

    let km = crate::cluster::kmeans::kmeans(&pts, nk, dk, 9, 4, 100, 7).unwrap();
    h.insert("k-means", hash_usize(&km.labels) + &hash(&km.centroids));

    // A symmetric matrix, by Lanczos (forced: the full-decomposition
    // threshold set to 0) and by the dense decomposition (faer's, whose
    // work is split into a fixed number of parts), large enough that faer
    // runs its parallel paths.
    let ne = 800;
    let g0 = random(ne * ne, 50);
    let sym: Vec<f64> = (0..ne * ne).map(|i| g0[i] + g0[(i % ne) * ne + i / ne]).collect();
    use crate::linalg::eigen::{EigenOptions, Which, symmetric_top_eigen};
    let e = symmetric_top_eigen(&sym, ne, 8, Which::Magnitude, &EigenOptions { full_below: 0, ..Default::default() }).unwrap();
    assert!(e.iterations > 0, "Lanczos was expected to answer");
    h.insert("eigen (Lanczos)", hash(&[e.values.clone(), e.vectors.clone()].concat()));
    let e = symmetric_top_eigen(&sym, ne, 8, Which::Magnitude, &EigenOptions::default()).unwrap();
    assert_eq!(e.iterations, 0, "the dense decomposition was expected to answer");
    h.insert("eigen (dense)", hash(&[e.values.clone(), e.vectors.clone()].concat()));
    // Shift-invert block iteration (forced below the dense threshold) on a
    // normalised affinity of 6 loosely coupled blocks: its many-vector
    // solves and block products through the GEMM.
    let (ns, parts) = (600, 6);
    let gs = random(ns * ns, 52);
    let w: Vec<f64> = (0..ns * ns)
        .map(|e| {
            let (i, j) = (e / ns, e % ns);
            let v = (gs[i.min(j) * ns + i.max(j)]).abs();
            if i == j {
                0.0
            } else if i * parts / ns == j * parts / ns {
                v
            } else {
                1e-3 * v
            }
        })
        .collect();
    let dd: Vec<f64> = w.chunks_exact(ns).map(|r| r.iter().sum::<f64>().sqrt()).collect();
    let norm_aff: Vec<f64> = (0..ns * ns).map(|e| w[e] / (dd[e / ns] * dd[e % ns])).collect();
    let e = crate::linalg::eigen::symmetric_eigen_below_shift(&norm_aff, ns, parts, 1.001, &EigenOptions { full_below: 0, ..Default::default() }).unwrap();
    assert!(e.iterations > 0, "the block iteration was expected to answer");
    h.insert("eigen (shift-invert block)", hash(&[e.values.clone(), e.vectors.clone()].concat()));

    // The blocked Cholesky (several panels, the last one partial): its row
    // solves run in parallel and its trailing updates through the GEMM.
    let nch = 600;
    let gc = random(nch * nch, 51);
    let mut spd = vec![0.0; nch * nch];
    dgemm(nch, nch, nch, 1.0, &gc, Trans::No, &gc, Trans::Yes, 0.0, &mut spd);
    (0..nch).for_each(|i| spd[i * nch + i] += nch as f64);
    let chol = crate::linalg::cholesky::blocked_cholesky(spd, nch, 128).unwrap();
    h.insert("blocked Cholesky", hash(chol.l().as_slice()));

    // Post-processing and spectral clustering of a block-structured C.
    let nc = 360;
    let coef: Vec<f32> =
        (0..nc * nc).map(|i| if (i / nc) % 6 == (i % nc) % 6 { 0.1 + 0.01 * ((i * 7919) % 13) as f32 } else { 0.001 * ((i * 104729) % 5) as f32 }).collect();
    let thr = crate::cluster::threshold_columns(&coef, nc, 0.2);
    let (aff, _) = crate::cluster::affinity_from_coef(&thr, nc, 6, 4, 2.0, false, 3).unwrap();
    h.insert("EDSC affinity", hash(&aff));
    use crate::cluster::LabelAssign;
    for (name, assign) in [("spectral (discretize)", LabelAssign::Discretize), ("spectral (k-means)", LabelAssign::Kmeans)] {
        h.insert(name, hash_usize(&crate::cluster::spectral_clustering(&aff, nc, 6, assign, 3).unwrap()));
    }

    // The sparse self-expressions (several blocks of 128 samples, EnSC's
    // supports grown by its oracle) and the sparse spectral step.
    use crate::cluster::sparse::{EnscParams, OmpParams, SparseConfig, SparseSolver, cluster_sparse, sparse_self_expression};
    let (ks, per, dim) = (6, 50, 24);
    let xs = crate::cluster::sparse::tests::union_of_subspaces(ks, 4, dim, per, 0.05, 9);
    let ensc = SparseSolver::Ensc(EnscParams { support: 10, ..Default::default() });
    for (name, solver) in [("EnSC", ensc), ("SSC-OMP", SparseSolver::Omp(OmpParams::default()))] {
        let code = sparse_self_expression(&xs, ks * per, dim, &solver, &crate::progress::Silent).unwrap().coef;
        let idx: Vec<usize> = code.indptr.iter().chain(&code.indices).copied().collect();
        h.insert(if name == "EnSC" { "EnSC codes" } else { "SSC-OMP codes" }, format!("{}{}", hash_usize(&idx), hash(&code.values)));
        let labels = cluster_sparse(&code, ks, &SparseConfig::recipe(solver), 4).unwrap().labels;
        h.insert(if name == "EnSC" { "sparse spectral (EnSC)" } else { "sparse spectral (SSC-OMP)" }, hash_usize(&labels));
        if name == "EnSC" {
            // Lanczos on the CSR operator, which n ≤ 3000 skips by default.
            let w = crate::cluster::sparse::affinity::sparse_affinity(&code, crate::cluster::sparse::SparseAffinity::Knn { k: 3 });
            let opts = EigenOptions { full_below: 0, tol: 1e-6, seed: 4, ..Default::default() };
            let e = crate::cluster::sparse::spectral::sparse_spectral_embedding(&w, ks, ks + 1, &opts).unwrap();
            assert!(e.iterations > 0);
            h.insert("sparse Lanczos", hash(&[e.values, e.vectors].concat()));
        }
    }
    h
}

/// The child: prints `HASH name<TAB>hex` per kernel. A no-op unless the
/// parent below started it.
#[test]
fn kernel_hashes_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    for (name, hex) in kernel_hashes() {
        println!("HASH {name}\t{hex}");
    }
}

fn hashes_with_threads(t: usize) -> BTreeMap<String, String> {
    let exe = std::env::current_exe().unwrap();
    let o = std::process::Command::new(exe)
        .args(["kernel_determinism::kernel_hashes_child", "--exact", "--nocapture", "--test-threads", "1"])
        .env(CHILD_ENV, "1")
        .env("RAYON_NUM_THREADS", t.to_string())
        .env("MATMUL_NUM_THREADS", t.to_string())
        .output()
        .unwrap();
    assert!(o.status.success(), "child with {t} threads failed: {}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    // libtest prints "test … " before the child's first line: find the tag.
    out.lines()
        .filter_map(|l| l.find("HASH ").map(|i| &l[i + 5..]))
        .map(|l| {
            let (name, hex) = l.split_once('\t').unwrap();
            (name.to_string(), hex.to_string())
        })
        .collect()
}

#[test]
fn every_parallel_kernel_is_bit_identical_across_thread_counts() {
    let one = hashes_with_threads(1);
    assert!(one.len() >= 18, "expected every kernel's hash, got {one:?}");
    for t in [2, 4] {
        let other = hashes_with_threads(t);
        for (name, hex) in &one {
            assert_eq!(other.get(name), Some(hex), "{name}: 1 thread vs {t} threads");
        }
    }
}

/// The hashes above must depend on the inputs (else the test proves nothing).
#[test]
fn kernel_hashes_depend_on_their_inputs() {
    let mut c1 = vec![0f32; 4];
    let mut c2 = vec![0f32; 4];
    crate::linalg::sgemm(2, 2, 2, 1.0, &[1.0, 2.0, 3.0, 4.0], crate::linalg::Trans::No, &[1.0, 0.0, 0.0, 1.0], crate::linalg::Trans::No, 0.0, &mut c1);
    crate::linalg::sgemm(2, 2, 2, 1.0, &[1.0, 2.0, 3.0, 4.5], crate::linalg::Trans::No, &[1.0, 0.0, 0.0, 1.0], crate::linalg::Trans::No, 0.0, &mut c2);
    assert_ne!(hash(&c1), hash(&c2));
}
