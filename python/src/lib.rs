//! `udll._udll`: the Rust side of the Python package. It turns numpy
//! arrays into a `udll::Dataset`, checks the settings into params, calls
//! `udll::fit` with the GIL released, and hands back a `Model` wrapping
//! the fit. The scikit-learn conventions live in `udll/__init__.py`.

use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray1, PyReadonlyArrayDyn};
use pyo3::exceptions::{PyMemoryError, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::PathBuf;
use udll::{Dataset, FitOptions, Fitted, Method, Plan, Silent, SyntheticSpec, UdllError};

/// A udll error as the Python exception that says what kind it is: files
/// are OSError, the memory budget MemoryError, everything else ValueError.
fn py_err(e: UdllError) -> PyErr {
    let text = e.to_string();
    match e {
        UdllError::Io { .. } => PyOSError::new_err(text),
        UdllError::OverBudget { .. } => PyMemoryError::new_err(text),
        _ => PyValueError::new_err(text),
    }
}

fn dataset(images: &PyReadonlyArrayDyn<'_, f32>, labels: Option<&PyReadonlyArray1<'_, i64>>) -> PyResult<Dataset> {
    let labels = labels.map(|l| l.as_array().to_vec());
    Dataset::from_array("array", images.as_array(), labels.as_deref()).map_err(py_err)
}

/// A fitted run.
#[pyclass(module = "udll._udll", frozen)]
struct Model {
    fitted: Fitted,
}

#[pymethods]
impl Model {
    /// The cluster of each fitted image.
    fn labels<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<i64>> {
        self.fitted.labels().iter().map(|&l| l as i64).collect::<Vec<_>>().into_pyarray(py)
    }

    /// {"acc", "nmi", "ari"} when the fitted images had labels, else None.
    fn scores<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(s) = self.fitted.scores() else { return Ok(None) };
        let d = PyDict::new(py);
        d.set_item("acc", s.acc)?;
        d.set_item("nmi", s.nmi)?;
        d.set_item("ari", s.ari)?;
        Ok(Some(d))
    }

    /// The number of clusters.
    fn clusters(&self) -> usize {
        self.fitted.clusters()
    }

    /// The codes the clustering used, (n, d) float32.
    fn codes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f32>>> {
        let (v, n, d) = self.fitted.codes().map_err(py_err)?;
        let a = ndarray::Array2::from_shape_vec((n, d), v).map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(a.into_pyarray(py))
    }

    /// The clusters of new images, (n, h, w) or (n, h, w, c).
    fn predict<'py>(&self, py: Python<'py>, images: PyReadonlyArrayDyn<'py, f32>) -> PyResult<Bound<'py, PyArray1<i64>>> {
        let ds = dataset(&images, None)?;
        let placed = py.detach(|| self.fitted.assign(&ds, &Silent)).map_err(py_err)?;
        Ok(placed.labels.into_iter().map(|l| l as i64).collect::<Vec<_>>().into_pyarray(py))
    }

    /// Write the run directory `udll run --out DIR` writes.
    fn save(&self, dir: PathBuf) -> PyResult<()> {
        self.fitted.save(&dir).map_err(py_err)
    }

    /// Read a run directory (written by `udll run` or `save`).
    #[staticmethod]
    fn load(dir: PathBuf) -> PyResult<Model> {
        Ok(Model { fitted: Fitted::load(&dir).map_err(py_err)? })
    }

    /// The settings, as the manifest records them (JSON text).
    fn config_json(&self) -> String {
        self.fitted.config().to_string()
    }
}

/// Fit images (a float32 array (n, h, w) or (n, h, w, c), in [0, 1] or
/// 0..255) with a preset and its overrides; `labels`, when given, only
/// score the result.
#[pyfunction]
#[pyo3(signature = (images, labels, preset, n_clusters, random_state, method=None, pretrain_epochs=None, epochs=None, landmarks=None, restarts=1))]
#[allow(clippy::too_many_arguments)]
fn fit(
    py: Python<'_>,
    images: PyReadonlyArrayDyn<'_, f32>,
    labels: Option<PyReadonlyArray1<'_, i64>>,
    preset: &str,
    n_clusters: Option<usize>,
    random_state: u64,
    method: Option<&str>,
    pretrain_epochs: Option<usize>,
    epochs: Option<usize>,
    landmarks: Option<usize>,
    restarts: usize,
) -> PyResult<Model> {
    let ds = dataset(&images, labels.as_ref())?;
    let mut params = udll::preset(preset).map_err(py_err)?;
    params.seed = random_state;
    if let Some(m) = method {
        let m = match m {
            "udll" => Method::Udll,
            "dsc" => Method::Dsc,
            "edsc" => Method::Edsc,
            other => return Err(PyValueError::new_err(format!("method '{other}': expected 'udll', 'dsc' or 'edsc'"))),
        };
        params.set_method(m);
    }
    if let Some(e) = pretrain_epochs {
        params.pretrain.epochs = e;
    }
    if let Some(e) = epochs {
        params.finetune.epochs = e;
    }
    let params = params.check().map_err(py_err)?;
    let clusters = n_clusters.or_else(|| udll::preset_clusters(preset));
    let Some(clusters) = clusters else {
        return Err(PyValueError::new_err(format!("n_clusters: the preset '{preset}' does not know the number of clusters; give it")));
    };
    let opts = FitOptions { clusters: Some(clusters), plan: Plan { landmarks, landmark_choice: None, restarts }, ..Default::default() };
    let fitted = py.detach(|| udll::fit(&ds, &params, &opts, &Silent)).map_err(py_err)?;
    Ok(Model { fitted })
}

/// The built-in synthetic set (the one `udll run` uses without data):
/// (images (n, size, size) float32, labels (n,) int64).
#[pyfunction]
#[pyo3(signature = (objects=20, poses=72, seed=0))]
fn synthetic<'py>(py: Python<'py>, objects: usize, poses: usize, seed: u64) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyArray1<i64>>)> {
    let ds = udll::generate(&SyntheticSpec { objects, poses, seed, ..Default::default() }).map_err(py_err)?;
    let images = ndarray::Array3::from_shape_vec((ds.n, ds.height, ds.width), ds.pixels).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let labels: Vec<i64> = ds.labels.unwrap_or_default().into_iter().map(|l| l as i64).collect();
    Ok((images.into_pyarray(py).into_any(), labels.into_pyarray(py)))
}

/// The preset names.
#[pyfunction]
fn presets() -> Vec<&'static str> {
    udll::PRESET_NAMES.to_vec()
}

#[pymodule]
fn _udll(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Model>()?;
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    m.add_function(wrap_pyfunction!(synthetic, m)?)?;
    m.add_function(wrap_pyfunction!(presets, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
