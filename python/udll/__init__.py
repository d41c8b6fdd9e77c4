"""udll: unsupervised deep local learning on the CPU.

A scikit-learn style estimator over the udll Rust library (the same code
as the ``udll`` binary, so the same seed gives the same labels)::

    from udll import UDLL
    model = UDLL(n_clusters=20, preset="coil20", random_state=0).fit(X)
    model.labels_            # the cluster of each image of X
    model.predict(X_new)     # new images into the fitted clusters

``X`` is a float array of shape (n, height, width) or (n, height, width,
channels), with values in [0, 1] or 0..255.
"""

import numpy as _np

from . import _udll

__all__ = ["UDLL", "synthetic", "presets", "load"]
__version__ = _udll.__version__

synthetic = _udll.synthetic
presets = _udll.presets


class UDLL:
    """Cluster images with UDLL (or DSC, or EDSC on the preset's front end).

    Parameters follow scikit-learn's conventions: the constructor only
    stores them, ``fit`` checks them.

    n_clusters : int or None
        The number of clusters; may be None only where the preset knows it
        (``coil20``: 20, ``orl``: 40, ``yaleb32``: 38, ``mnist``: 10 ...).
    preset : str
        A udll preset (``udll.presets()``): the network, training and
        post-processing settings of a dataset.
    random_state : int
        The seed; the same seed gives the same bits whatever the threads.
    method : {"udll", "dsc", "edsc"} or None
        Override the preset's method.
    pretrain_epochs, epochs : int or None
        Override the preset's pretraining and fine-tuning epochs.
    landmarks : int or None
        Landmark mode with this many landmarks (None: dense when it fits).
    restarts : int
        Independent runs, the best kept by a label-free score.

    Attributes after ``fit``: ``labels_`` (int64, one per image),
    ``n_clusters_``, ``scores_`` (ACC/NMI/ARI when ``y`` was given, else
    None), ``model_`` (the fitted run: ``codes()``, ``save(dir)``).
    """

    _param_names = ("n_clusters", "preset", "random_state", "method", "pretrain_epochs", "epochs", "landmarks", "restarts")

    def __init__(self, n_clusters=None, preset="synthetic", random_state=0, method=None, pretrain_epochs=None, epochs=None, landmarks=None, restarts=1):
        self.n_clusters = n_clusters
        self.preset = preset
        self.random_state = random_state
        self.method = method
        self.pretrain_epochs = pretrain_epochs
        self.epochs = epochs
        self.landmarks = landmarks
        self.restarts = restarts

    def get_params(self, deep=True):
        """The constructor's parameters, as a dict."""
        return {name: getattr(self, name) for name in self._param_names}

    def set_params(self, **params):
        """Set constructor parameters; unknown names are a ValueError."""
        for name, value in params.items():
            if name not in self._param_names:
                raise ValueError(f"UDLL has no parameter {name!r} (it has {', '.join(self._param_names)})")
            setattr(self, name, value)
        return self

    def __repr__(self):
        changed = {k: v for k, v in self.get_params().items() if v != UDLL().get_params()[k]}
        return "UDLL(" + ", ".join(f"{k}={v!r}" for k, v in changed.items()) + ")"

    @staticmethod
    def _images(X):
        X = _np.ascontiguousarray(X, dtype=_np.float32)
        if X.ndim not in (3, 4):
            raise ValueError(f"X has shape {X.shape}: expected (n, height, width) or (n, height, width, channels)")
        return X

    def fit(self, X, y=None):
        """Fit the images X; y, when given, only scores the result (it is
        never read to choose anything)."""
        X = self._images(X)
        labels = None if y is None else _np.ascontiguousarray(y, dtype=_np.int64).reshape(-1)
        self.model_ = _udll.fit(
            X,
            labels,
            self.preset,
            self.n_clusters,
            int(self.random_state),
            method=self.method,
            pretrain_epochs=self.pretrain_epochs,
            epochs=self.epochs,
            landmarks=self.landmarks,
            restarts=int(self.restarts),
        )
        self.labels_ = self.model_.labels()
        self.n_clusters_ = self.model_.clusters()
        self.scores_ = self.model_.scores()
        return self

    def fit_predict(self, X, y=None):
        """Fit X and return its labels."""
        return self.fit(X, y).labels_

    def predict(self, X):
        """The fitted clusters of new images X."""
        if not hasattr(self, "model_"):
            raise ValueError("this UDLL is not fitted yet: call fit first")
        return self.model_.predict(self._images(X))


def load(path):
    """A fitted run from a run directory (``udll run --out DIR`` or
    ``UDLL.model_.save(DIR)``)."""
    return _udll.Model.load(str(path))
