"""The Python package against the installed wheel: scikit-learn's
estimator conventions, the same labels as the udll binary for the same
seed, predict and save/load, clean errors, and the README's example."""

import os
import pathlib
import re
import subprocess

import numpy as np
import pytest

import udll
from udll import UDLL

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("UDLL_BIN", str(ROOT / "target" / "release" / "udll"))
SMALL = dict(pretrain_epochs=6, epochs=4)


def small_set(seed=3):
    return udll.synthetic(objects=4, poses=10, seed=seed)


def test_same_labels_as_the_cli(tmp_path):
    X, y = small_set(3)
    labels = UDLL(n_clusters=4, preset="synthetic", random_state=3, **SMALL).fit_predict(X)
    out = tmp_path / "cli"
    subprocess.run(
        [BIN, "run", "--preset", "synthetic", "--synthetic-objects", "4", "--synthetic-poses", "10", "--seed", "3",
         "--clusters", "4", "--pretrain-epochs", "6", "--epochs", "4", "--out", str(out), "--quiet", "--no-report"],
        check=True,
    )
    rows = (out / "labels.csv").read_text().splitlines()[1:]
    cli = np.array([int(r.split(",")[1]) for r in rows])
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, cli)


def test_estimator_conventions():
    m = UDLL(n_clusters=4, random_state=1)
    assert m.get_params()["n_clusters"] == 4 and m.get_params()["preset"] == "synthetic"
    assert m.set_params(random_state=2, epochs=3) is m and m.random_state == 2 and m.epochs == 3
    with pytest.raises(ValueError, match="no parameter 'alpha'"):
        m.set_params(alpha=1)
    assert "n_clusters=4" in repr(m)
    with pytest.raises(ValueError, match="not fitted"):
        m.predict(np.zeros((2, 8, 8), np.float32))
    # A clone in scikit-learn's sense: a new estimator from get_params.
    assert UDLL(**m.get_params()).get_params() == m.get_params()


def test_fit_scores_predict_save_load(tmp_path):
    X, y = small_set(5)
    m = UDLL(n_clusters=4, random_state=5, **SMALL).fit(X, y)
    assert m.labels_.shape == (40,) and m.n_clusters_ == 4
    assert set(m.scores_) == {"acc", "nmi", "ari"} and 0.0 <= m.scores_["acc"] <= 1.0
    # y only scores: the labels are the same without it.
    np.testing.assert_array_equal(UDLL(n_clusters=4, random_state=5, **SMALL).fit(X).labels_, m.labels_)
    assert UDLL(n_clusters=4, random_state=5, **SMALL).fit(X).scores_ is None
    # Images as 0..255 and with a channel axis are read as the CLI reads them.
    np.testing.assert_array_equal(UDLL(n_clusters=4, random_state=5, **SMALL).fit(X[..., None] * 255).labels_, m.labels_)
    pred = m.predict(X[:10])
    assert pred.shape == (10,) and pred.max() < 4
    codes = m.model_.codes()
    assert codes.shape[0] == 40 and codes.dtype == np.float32
    m.model_.save(str(tmp_path / "run"))
    assert (tmp_path / "run" / "manifest.json").exists()
    loaded = udll.load(tmp_path / "run")
    np.testing.assert_array_equal(loaded.labels(), m.labels_)
    np.testing.assert_array_equal(loaded.predict(np.ascontiguousarray(X[:10])), pred)


def test_errors_are_python_exceptions():
    X, _ = small_set()
    with pytest.raises(ValueError, match="does not know the number of clusters"):
        UDLL(preset="synthetic").fit(X)
    with pytest.raises(ValueError, match="expected \\(n, height, width\\)"):
        UDLL(n_clusters=2).fit(np.zeros((4, 9), np.float32))
    with pytest.raises(ValueError, match="unknown preset"):
        UDLL(n_clusters=2, preset="nope").fit(X)
    with pytest.raises(ValueError, match="epoch"):
        UDLL(n_clusters=4, epochs=0).fit(X)
    with pytest.raises(ValueError, match="NaN"):
        bad = X.copy()
        bad[0, 0, 0] = np.nan
        UDLL(n_clusters=4, **SMALL).fit(bad)
    with pytest.raises(ValueError, match="not a directory"):
        udll.load("/nonexistent/run")


def test_the_readme_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks, "the README has a Python example"
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
    assert (tmp_path / "udll-py-run" / "manifest.json").exists()
