//! Deterministic reductions: work is cut into chunks whose boundaries depend
//! only on the problem size, the chunks run in parallel, and the partial
//! results are combined in index order. The bits therefore do not depend on
//! the number of threads.

use crate::linalg::real::Real;
use rayon::prelude::*;

/// Rows per chunk of a reduction (a constant, never the thread count).
pub const REDUCE_CHUNK_ROWS: usize = 1024;

/// Column sums of a row-major `rows × cols` matrix, accumulated into `out`.
pub fn add_column_sums<T: Real>(mat: &[T], rows: usize, cols: usize, out: &mut [T]) {
    assert_eq!(out.len(), cols);
    for (o, t) in out.iter_mut().zip(grouped_column_sums(mat, rows, cols, 1)) {
        *o += T::from_f64(t);
    }
}

/// Column sums of a row-major `rows × cols` matrix in f64, each run of
/// `group` adjacent columns summed into one total (`cols / group` of them).
/// With group 1 these are plain column sums; the lane-blocked convolution
/// layout uses group = its lane count to total a channel over its images.
pub fn grouped_column_sums<T: Real>(mat: &[T], rows: usize, cols: usize, group: usize) -> Vec<f64> {
    assert_eq!(mat.len(), rows * cols);
    assert!(group > 0 && cols.is_multiple_of(group), "grouped_column_sums: {cols} columns in groups of {group}");
    let groups = cols / group;
    if rows == 0 || cols == 0 {
        return vec![0.0; groups];
    }
    let partials: Vec<Vec<f64>> = mat
        .par_chunks(REDUCE_CHUNK_ROWS * cols)
        .map(|chunk| {
            let mut p = vec![0.0f64; groups];
            for row in chunk.chunks_exact(cols) {
                for (acc, run) in p.iter_mut().zip(row.chunks_exact(group)) {
                    *acc += run.iter().map(|v| v.to_f64()).sum::<f64>();
                }
            }
            p
        })
        .collect();
    let mut total = vec![0.0f64; groups];
    for p in &partials {
        for (t, v) in total.iter_mut().zip(p) {
            *t += v;
        }
    }
    total
}

/// Σ f(x_i) over a slice in f64, chunked deterministically.
pub fn sum_map<T: Real>(values: &[T], f: impl Fn(T) -> f64 + Sync) -> f64 {
    values.par_chunks(REDUCE_CHUNK_ROWS * 64).map(|c| c.iter().map(|&v| f(v)).sum::<f64>()).collect::<Vec<f64>>().iter().sum()
}

/// Σ f(a_i, b_i) over two slices in f64, chunked deterministically.
pub fn sum_zip_map<T: Real>(a: &[T], b: &[T], f: impl Fn(T, T) -> f64 + Sync) -> f64 {
    assert_eq!(a.len(), b.len());
    let chunk = REDUCE_CHUNK_ROWS * 64;
    a.par_chunks(chunk).zip(b.par_chunks(chunk)).map(|(x, y)| x.iter().zip(y).map(|(&u, &v)| f(u, v)).sum::<f64>()).collect::<Vec<f64>>().iter().sum()
}

/// Lanes of the dot product: independent partial sums that the compiler
/// keeps in vector registers (a single running sum is one long chain of
/// dependent additions, bound by the adder's latency).
const DOT_LANES: usize = 8;

/// Σ a_i·b_i in f64 with `DOT_LANES` interleaved partial sums, combined in
/// lane order, then the tail: a fixed order, so the bits depend only on the
/// inputs.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mut acc = [0.0f64; DOT_LANES];
    let (ca, cb) = (a.chunks_exact(DOT_LANES), b.chunks_exact(DOT_LANES));
    let (ta, tb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..DOT_LANES {
            acc[l] += x[l] * y[l];
        }
    }
    let mut total = acc.iter().sum::<f64>();
    for (x, y) in ta.iter().zip(tb) {
        total += x * y;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_a_plain_sum_on_exact_values() {
        // Small integers: every partial sum is exact, so any order agrees.
        for len in [0usize, 1, 7, 8, 9, 23, 64, 1001] {
            let a: Vec<f64> = (0..len).map(|i| (i % 13) as f64 - 6.0).collect();
            let b: Vec<f64> = (0..len).map(|i| (i % 7) as f64).collect();
            let plain: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert_eq!(dot(&a, &b), plain, "len {len}");
        }
    }
}
