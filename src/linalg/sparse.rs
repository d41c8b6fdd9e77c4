//! A compressed-sparse-row matrix: the layout of the sparse
//! self-expression's coefficients and of the affinity built from them
//! (SciPy's `csr_matrix((values, indices, indptr))` reads it unchanged).
//!
//! Every operation keeps the column indices of a row sorted and visits
//! entries in a fixed order, so results do not depend on the number of
//! threads.

use rayon::prelude::*;

#[derive(Clone, Debug, PartialEq)]
/// An `rows × cols` sparse matrix: row i's entries are
/// `indices[indptr[i]..indptr[i + 1]]` (increasing) with their `values`.
pub struct Csr {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Row i's entries are `indptr[i]..indptr[i + 1]` (rows + 1 offsets).
    pub indptr: Vec<usize>,
    /// The column of each entry, increasing within a row.
    pub indices: Vec<usize>,
    /// The value of each entry.
    pub values: Vec<f64>,
}

impl Csr {
    /// From one list of (column, value) per row, in any order; a column
    /// listed twice in a row is summed, and exact zeros are kept (a solver's
    /// support is worth seeing).
    pub fn from_rows(cols: usize, rows: Vec<Vec<(usize, f64)>>) -> Csr {
        let n_rows = rows.len();
        let mut indptr = Vec::with_capacity(n_rows + 1);
        indptr.push(0);
        let mut indices = Vec::with_capacity(rows.iter().map(Vec::len).sum());
        let mut values = Vec::with_capacity(indices.capacity());
        for mut row in rows {
            row.sort_by_key(|e| e.0);
            for (j, v) in row {
                debug_assert!(j < cols, "column {j} of a matrix with {cols} columns");
                if indices.len() > *indptr.last().expect("indptr starts at 0") && indices.last() == Some(&j) {
                    *values.last_mut().expect("an entry was pushed") += v;
                } else {
                    indices.push(j);
                    values.push(v);
                }
            }
            indptr.push(indices.len());
        }
        Csr { rows: n_rows, cols, indptr, indices, values }
    }

    /// Stored entries.
    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    /// Row i's column indices and values.
    pub fn row(&self, i: usize) -> (&[usize], &[f64]) {
        let r = self.indptr[i]..self.indptr[i + 1];
        (&self.indices[r.clone()], &self.values[r])
    }

    /// The transpose (a counting sort by column: rows stay in order within
    /// each new row).
    pub fn transpose(&self) -> Csr {
        let mut counts = vec![0usize; self.cols + 1];
        for &j in &self.indices {
            counts[j + 1] += 1;
        }
        for j in 0..self.cols {
            counts[j + 1] += counts[j];
        }
        let indptr = counts.clone();
        let mut next = counts;
        let mut indices = vec![0usize; self.nnz()];
        let mut values = vec![0.0; self.nnz()];
        for i in 0..self.rows {
            let (cols, vals) = self.row(i);
            for (&j, &v) in cols.iter().zip(vals) {
                indices[next[j]] = i;
                values[next[j]] = v;
                next[j] += 1;
            }
        }
        Csr { rows: self.cols, cols: self.rows, indptr, indices, values }
    }

    /// a·A + b·B for two matrices of one shape (rows merged in column
    /// order).
    pub fn add(&self, a: f64, other: &Csr, b: f64) -> Csr {
        assert_eq!((self.rows, self.cols), (other.rows, other.cols), "Csr::add: shapes differ");
        let rows: Vec<Vec<(usize, f64)>> = (0..self.rows)
            .into_par_iter()
            .map(|i| {
                let (ci, vi) = self.row(i);
                let (cj, vj) = other.row(i);
                let (mut p, mut q) = (0, 0);
                let mut out = Vec::with_capacity(ci.len() + cj.len());
                while p < ci.len() || q < cj.len() {
                    if q == cj.len() || (p < ci.len() && ci[p] < cj[q]) {
                        out.push((ci[p], a * vi[p]));
                        p += 1;
                    } else if p == ci.len() || cj[q] < ci[p] {
                        out.push((cj[q], b * vj[q]));
                        q += 1;
                    } else {
                        out.push((ci[p], a * vi[p] + b * vj[q]));
                        p += 1;
                        q += 1;
                    }
                }
                out
            })
            .collect();
        Csr::from_rows(self.cols, rows)
    }

    /// The same pattern with every value mapped through `f`.
    pub fn map(&self, f: impl Fn(f64) -> f64) -> Csr {
        Csr { values: self.values.iter().map(|&v| f(v)).collect(), ..self.clone() }
    }

    /// Each row divided by its ℓ2 norm (rows of zeros stay zero), as
    /// scikit-learn's `normalize(C, 'l2')`.
    pub fn normalise_rows(&self) -> Csr {
        let mut out = self.clone();
        for i in 0..self.rows {
            let r = self.indptr[i]..self.indptr[i + 1];
            let norm = out.values[r.clone()].iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm > 0.0 {
                out.values[r].iter_mut().for_each(|v| *v /= norm);
            }
        }
        out
    }

    /// y = A·x, one row per task, each a sum in the row's column order.
    pub fn matvec(&self, x: &[f64], y: &mut [f64]) {
        assert_eq!((x.len(), y.len()), (self.cols, self.rows), "Csr::matvec: shapes");
        y.par_iter_mut().enumerate().for_each(|(i, yi)| {
            let (cols, vals) = self.row(i);
            *yi = cols.iter().zip(vals).map(|(&j, &v)| v * x[j]).sum();
        });
    }

    /// The dense row-major matrix (for tests).
    #[cfg(test)]
    pub fn to_dense(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.rows * self.cols];
        for i in 0..self.rows {
            let (cols, vals) = self.row(i);
            for (&j, &v) in cols.iter().zip(vals) {
                out[i * self.cols + j] += v;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Csr {
        Csr::from_rows(4, vec![vec![(2, 1.0), (0, 2.0)], vec![], vec![(3, -1.0), (1, 0.5), (3, 1.5)]])
    }

    #[test]
    fn builds_transposes_adds_and_multiplies_like_the_dense_matrix() {
        let a = example();
        assert_eq!(a.indptr, vec![0, 2, 2, 4]);
        assert_eq!(a.indices, vec![0, 2, 1, 3]);
        let d = a.to_dense();
        assert_eq!(d, vec![2.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.5, 0.0, 0.5]);
        let t = a.transpose();
        let dt = t.to_dense();
        for i in 0..3 {
            for j in 0..4 {
                assert_eq!(dt[j * 3 + i], d[i * 4 + j]);
            }
        }
        let x = [1.0, 2.0, 3.0, 4.0];
        let mut y = [0.0; 3];
        a.matvec(&x, &mut y);
        assert_eq!(y, [5.0, 0.0, 3.0]);
        let s = a.add(2.0, &a.map(f64::abs), -1.0);
        assert_eq!(s.to_dense(), d.iter().map(|v| 2.0 * v - v.abs()).collect::<Vec<_>>());
        let n = a.normalise_rows();
        assert!((n.row(0).1.iter().map(|v| v * v).sum::<f64>() - 1.0).abs() < 1e-15);
        assert_eq!(n.row(1).0.len(), 0);
    }
}
