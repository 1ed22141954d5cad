"""cbce.metrics.log_loss: scikit-learn's log_loss, binary and multi-class (docs/guide/sklearn.md).

Parity to 1e-12 (float64) with the installed scikit-learn, whose source is the specification:
sklearn/metrics/_classification.py (log_loss, _validate_multiclass_probabilistic_prediction,
_one_hot_encoding_multiclass_target). Errors are compared by meaning, not by exact wording.
"""
import tracemalloc
import warnings

import numpy as np
import pytest

from cbce.metrics import log_loss

sklearn_metrics = pytest.importorskip("sklearn.metrics")
sk_log_loss = sklearn_metrics.log_loss
SK_VERSION = tuple(int(p) for p in pytest.importorskip("sklearn").__version__.split(".")[:2]
                   if p.isdigit())

RTOL64 = 1e-12
# scikit-learn computes float32 input in float32 (per-sample logs and the mean), and so does
# cbce (within 4 float32 ulp per element, summed in float64).
RTOL32 = 1e-5
N = 2000

ENCODINGS = {
    "int01": lambda t: t.astype(np.int64),
    "bool": lambda t: t.astype(bool),
    "float01": lambda t: t.astype(np.float64),
    "minus1_1": lambda t: np.where(t == 1, 1, -1),
    "float0_2": lambda t: 2.0 * t,
    "strings": lambda t: np.where(t == 1, "spam", "ham"),
    "objects": lambda t: np.where(t == 1, "yes", "no").astype(object),
    "uint8_3_4": lambda t: (t + 3).astype(np.uint8),
}


def _data(rng, n=N, dtype=np.float64):
    t = (rng.uniform(size=n) < 0.4).astype(np.int64)
    p = rng.uniform(size=n).astype(dtype)
    p[:4] = [0.0, 1.0, 1.0, 0.0]  # saturated, both ways: the eps clip decides these
    t[:4] = [1, 0, 1, 0]
    return t, p


def _close(got, want, rtol=RTOL64):
    assert got == pytest.approx(want, rel=rtol, abs=0), f"cbce {got!r} vs scikit-learn {want!r}"


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_label_encodings_match_sklearn(encoding, rng):
    """Every label encoding is mapped like scikit-learn's LabelBinarizer (larger class positive)."""
    t, p = _data(rng)
    y = ENCODINGS[encoding](t)
    _close(log_loss(y, p), sk_log_loss(y, p))


@pytest.mark.parametrize("normalize", [True, False], ids=["mean", "sum"])
@pytest.mark.parametrize("weights", ["none", "positive", "signed"])
def test_weights_and_normalize_match_sklearn(weights, normalize, rng):
    """sample_weight (also negative) and normalize give scikit-learn's weighted mean or sum."""
    t, p = _data(rng)
    w = {"none": None, "positive": rng.uniform(0.1, 3.0, N),
         "signed": rng.uniform(-1.0, 3.0, N)}[weights]
    _close(log_loss(t, p, sample_weight=w, normalize=normalize),
           sk_log_loss(t, p, sample_weight=w, normalize=normalize))


@pytest.mark.parametrize("form", ["column", "two_columns", "two_columns_unnormalized",
                                  "indicator_y_true", "fortran_two_columns"])
def test_probability_layouts_match_sklearn(form, rng):
    """(n, 1) and (n, 2) y_proba, and an (n, 2) indicator y_true, are scored column by column."""
    t, p = _data(rng)
    y, proba = t, p
    if form == "column":
        proba = p[:, None]
    elif form in ("two_columns", "fortran_two_columns"):
        proba = np.stack([1 - p, p], axis=1)
        if form == "fortran_two_columns":
            proba = np.asfortranarray(proba)
    elif form == "two_columns_unnormalized":
        proba = np.stack([rng.uniform(size=N), p], axis=1)
    elif form == "indicator_y_true":
        y = np.stack([1 - t, t], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "do not sum to one": tested below
        want = sk_log_loss(y, proba, sample_weight=np.arange(1.0, N + 1))
        got = log_loss(y, proba, sample_weight=np.arange(1.0, N + 1))
    _close(got, want)


def test_large_random_input_matches_sklearn(rng):
    """10^5 samples, weighted: equal to scikit-learn to 1e-12."""
    t, p = _data(rng, n=100_000)
    w = rng.uniform(0, 2, t.size)
    _close(log_loss(t, p, sample_weight=w), sk_log_loss(t, p, sample_weight=w))


@pytest.mark.parametrize("dtype", [np.float32, np.float16], ids=["float32", "float16"])
def test_low_precision_clips_at_its_own_eps(dtype, rng):
    """float32/float16 probabilities are clipped at finfo(dtype).eps, as scikit-learn does."""
    t, p = _data(rng, dtype=dtype)
    eps = np.finfo(dtype).eps
    p64 = np.clip(p.astype(np.float64), float(eps), float(1 - dtype(eps)))
    exact = -np.mean(np.where(t == 1, np.log(p64), np.log1p(-p64)))
    # cbce computes the binary loss of float32 in float32 arithmetic, within 4 float32 ulp per
    # element (README, dtypes); the terms are >= 0, so their mean is within that relative error.
    _close(log_loss(t, p), exact, rtol=4 * 2.0 ** -24)
    _close(log_loss(t, p), sk_log_loss(t, p), rtol=RTOL32 if dtype == np.float32 else 2e-3)


def test_saturated_prediction_costs_minus_log_eps():
    """A certain, wrong float64 prediction costs -log(2.22e-16) = 36.04, not inf."""
    eps = np.finfo(np.float64).eps
    _close(log_loss([1, 0], [0.0, 0.0], normalize=False), -np.log(eps) - np.log1p(-eps))


def test_one_class_with_labels():
    """A batch of one class is scored when labels names both classes."""
    _close(log_loss([1, 1, 1], [0.9, 0.8, 0.7], labels=[0, 1]),
           sk_log_loss([1, 1, 1], [0.9, 0.8, 0.7], labels=[0, 1]))


def test_string_labels_with_labels_argument():
    """String labels with labels=[...]: the sorted second label is the positive class."""
    y, p = ["b", "b", "a"], [0.6, 0.7, 0.2]
    _close(log_loss(y, p, labels=["a", "b"]), sk_log_loss(y, p, labels=["a", "b"]))


def test_unsorted_labels_warn_like_sklearn():
    """labels not in sorted order: the same UserWarning as scikit-learn, the same result."""
    with pytest.warns(UserWarning, match="ordered lexicographically"):
        got = log_loss([1, 0, 1], [0.8, 0.3, 0.6], labels=[1, 0])
    _close(got, log_loss([1, 0, 1], [0.8, 0.3, 0.6]))


def test_rows_not_summing_to_one_warn():
    """A two-column y_proba whose rows do not sum to one warns, as in scikit-learn."""
    with pytest.warns(UserWarning, match="do not sum to one"):
        log_loss([0, 1], [[0.5, 0.2], [0.3, 0.7]])


def test_y_pred_alias():
    """y_pred= (scikit-learn < 1.9's name) gives the same result as y_proba=, with a
    FutureWarning."""
    with pytest.warns(FutureWarning, match="y_pred"):
        got = log_loss([0, 1], y_pred=[0.2, 0.7])
    assert got == log_loss([0, 1], y_proba=[0.2, 0.7])


@pytest.mark.parametrize("y_true, y_proba, kwargs, match", [
    pytest.param([1, 1], [0.5, 0.6], {}, "only one label", id="one-class"),
    pytest.param([0, 1, 2], [0.5, 0.6, 0.1], {}, "different number of classes: 3 vs 2",
                 id="multiclass-y"),
    pytest.param([0, 1, 1], np.full((3, 3), 1 / 3), {}, "different number of classes: 2 vs 3",
                 id="three-columns"),
    pytest.param([0, 1], [0.5, 0.6], {"labels": [0, 1, 2]}, "number of classes in labels",
                 id="three-labels"),
    pytest.param([0, 1, 2], np.full((3, 4), 0.25), {}, "different number of classes: 3 vs 4",
                 id="k-mismatch"),
    pytest.param([0, 1, 2], np.full((3, 4), 0.25), {"labels": [0, 1, 2]},
                 "number of classes in labels", id="k-mismatch-labels"),
    pytest.param([0, 1, 2], [[0.5, 0.6, -0.1]] * 3, {}, "lower than 0: -0.1",
                 id="multiclass-proba-below-0"),
    pytest.param([0, 1, 2], [[0.5, 0.6, 1.5]] * 3, {}, "greater than 1: 1.5",
                 id="multiclass-proba-above-1"),
    pytest.param([0, 1, 2], [[0.5, np.nan, 0.5]] * 3, {}, "NaN", id="multiclass-proba-nan"),
    pytest.param([0, 3, 2], np.full((3, 3), 1 / 3), {"labels": [0, 1, 2]},
                 r"values \{3\} not belonging", id="multiclass-undeclared-label"),
    pytest.param([1, 1, 1], np.full((3, 3), 1 / 3), {}, "only one label",
                 id="multiclass-one-class"),
    pytest.param([0, 1], [0.5, 0.6], {"labels": [1]}, "at least two labels", id="one-label"),
    pytest.param([0, 2], [0.5, 0.6], {"labels": [0, 1]}, r"values \{2\} not belonging",
                 id="undeclared-label"),
    pytest.param([0, 1], [0.5, 1.5], {}, "greater than 1: 1.5", id="proba-above-1"),
    pytest.param([0, 1], [-0.5, 0.5], {}, "lower than 0: -0.5", id="proba-below-0"),
    pytest.param([0, 1], [np.nan, 0.5], {}, "NaN", id="proba-nan"),
    pytest.param([0, 1], [np.inf, 0.5], {}, "infinity", id="proba-inf"),
    pytest.param([0, np.nan], [0.5, 0.5], {}, "NaN", id="y-nan"),
    pytest.param([0, 0.5, 1], [0.5, 0.5, 0.5], {}, "Unknown label type", id="continuous-y"),
    pytest.param([0, 1, 1], [0.5, 0.5], {}, "inconsistent numbers of samples", id="lengths"),
    pytest.param([0, 1], [0.5, 0.5], {"sample_weight": [1.0]}, "inconsistent numbers",
                 id="weight-length"),
    pytest.param([0, 1], [0.5, 0.5], {"sample_weight": [0.0, 0.0]}, "non-zero",
                 id="zero-weights"),
    pytest.param([0, 1], [0.5, 0.5], {"sample_weight": [1.0, np.nan]}, "NaN",
                 id="nan-weight"),
    pytest.param([0, 1], [], {}, "no sample|inconsistent", id="empty"),
    pytest.param([0, 1], np.full((2, 2, 1), 0.5), {}, "dimensions", id="three-dims"),
])
def test_bad_input_raises_value_error_like_sklearn(y_true, y_proba, kwargs, match):
    """Every input scikit-learn rejects with a ValueError is rejected with one here too (the
    scikit-learn half from 1.9 on: older releases accept some of these, e.g. values above 1)."""
    if SK_VERSION >= (1, 9):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(ValueError):
                sk_log_loss(y_true, y_proba, **kwargs)
    with pytest.raises(ValueError, match=match):
        log_loss(y_true, y_proba, **kwargs)


def _multiclass_data(rng, k, n=N, dtype=np.float64):
    """Integer labels 0..k-1 and Dirichlet rows, with saturated rows (0 and 1) the clip decides."""
    y = rng.integers(0, k, n)
    proba = rng.dirichlet(np.ones(k), n)
    proba[:3] = 0.0
    proba[0, 1] = proba[1, 0] = 1.0  # the true class at 0 (row 0) and 1 (row 1)
    proba[2, 2] = 1.0  # the true class at 1 (row 2)
    y[:3] = [0, 1, 2]
    y[3:3 + k] = np.arange(k)  # every class present
    return y, proba.astype(dtype)


@pytest.mark.parametrize("normalize", [True, False], ids=["mean", "sum"])
@pytest.mark.parametrize("weights", ["none", "positive", "signed"])
@pytest.mark.parametrize("kind", ["int", "str"])
@pytest.mark.parametrize("k", [3, 5, 10])
def test_multiclass_matches_sklearn(k, kind, weights, normalize, rng):
    """K = 3, 5, 10 classes, integer and string labels, weights and normalize: 1e-12."""
    y, proba = _multiclass_data(rng, k)
    if kind == "str":  # sorted like the integers: "c00" < "c01" < ... < "c09"
        y = np.array([f"c{i:02d}" for i in range(k)])[y]
    w = {"none": None, "positive": rng.uniform(0.1, 3.0, N),
         "signed": rng.uniform(-0.5, 3.0, N)}[weights]
    got = log_loss(y, proba, sample_weight=w, normalize=normalize)
    _close(got, sk_log_loss(y, proba, sample_weight=w, normalize=normalize))


@pytest.mark.parametrize("k", [3, 5, 10])
def test_multiclass_labels_argument(k, rng):
    """labels= names classes absent from y_true (columns in sorted label order), for ints and
    strings; unsorted labels warn as in scikit-learn."""
    y, proba = _multiclass_data(rng, k)
    y = np.where(y == k - 1, 0, y)  # the last class is absent from y_true
    _close(log_loss(y, proba, labels=np.arange(k)),
           sk_log_loss(y, proba, labels=np.arange(k)))
    names = np.array([f"c{i:02d}" for i in range(k)])
    _close(log_loss(names[y], proba, labels=names), sk_log_loss(names[y], proba, labels=names))
    with pytest.warns(UserWarning, match="ordered lexicographically"):
        got = log_loss(y, proba, labels=np.arange(k)[::-1])
    _close(got, log_loss(y, proba, labels=np.arange(k)))


@pytest.mark.parametrize("k", [3, 5, 10])
def test_multiclass_float32_clips_at_its_eps(k, rng):
    """float32 probabilities: clipped at finfo(float32).eps like scikit-learn, which computes
    in float32 (RTOL32); cbce's float32 logs are within 4 float32 ulp of the exact values (terms
    >= 0, so their mean too)."""
    y, proba = _multiclass_data(rng, k, dtype=np.float32)
    got = log_loss(y, proba)
    _close(got, sk_log_loss(y, proba), rtol=RTOL32)
    eps = float(np.finfo(np.float32).eps)
    q = np.clip(proba[np.arange(N), y].astype(np.float64), eps, 1 - eps)
    _close(got, float(np.mean(-np.log(q))), rtol=4 * 2.0 ** -24)


def test_multiclass_rows_not_summing_to_one_warn_and_are_not_renormalised(rng):
    """Rows not summing to one warn (rtol sqrt(eps)) and are scored as given, like scikit-learn."""
    y, proba = _multiclass_data(rng, 4)
    proba[5] *= 0.5
    with pytest.warns(UserWarning, match="do not sum to one"):
        got = log_loss(y, proba)
    with pytest.warns(UserWarning, match="do not sum to one"):
        want = sk_log_loss(y, proba)
    _close(got, want)
    ok = rng.dirichlet(np.ones(4), 50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # rows summing to 1 up to rounding: no warning
        log_loss(rng.integers(0, 4, 50), ok)


def test_multiclass_indicator_matrix_matches_sklearn(rng):
    """A (n, K) 0/1 indicator y_true is scored column by column, as in scikit-learn."""
    y, proba = _multiclass_data(rng, 4)
    onehot = np.eye(4, dtype=np.int64)[y]
    _close(log_loss(onehot, proba), sk_log_loss(onehot, proba))
    _close(log_loss(onehot, proba), log_loss(y, proba))


def test_multiclass_zero_weights_raise_like_sklearn():
    """All-zero weights and weights summing to zero: scikit-learn's errors on the K-class path."""
    y, proba = [0, 1, 2], np.full((3, 3), 1 / 3)
    with pytest.raises(ValueError, match="non-zero"):
        log_loss(y, proba, sample_weight=[0.0, 0.0, 0.0])
    with pytest.raises(ZeroDivisionError):
        log_loss(y, proba, sample_weight=[1.0, -1.0, 0.0])


def test_weights_summing_to_zero_raise_zero_division():
    """normalize=True with weights summing to 0: ZeroDivisionError, as np.average raises."""
    with pytest.raises(ZeroDivisionError):
        log_loss([0, 1, 1], [0.2, 0.5, 0.7], sample_weight=[1.0, -1.0, 0.0])


@pytest.mark.parametrize("kwargs, error", [
    pytest.param({"y_pred": [0.5, 0.5], "y_proba": [0.5, 0.5]}, ValueError, id="both-names"),
    pytest.param({}, TypeError, id="no-proba"),
    pytest.param({"y_proba": [0.5, 0.5], "normalize": "yes"}, TypeError, id="normalize-str"),
    pytest.param({"y_proba": [0.5, 0.5], "sample_weight": 2.0}, TypeError, id="scalar-weight"),
    pytest.param({"y_proba": ["a", "b"]}, TypeError, id="string-proba"),
])
def test_bad_arguments(kwargs, error):
    """Misused arguments raise with the argument named."""
    with pytest.raises(error):
        log_loss([0, 1], **kwargs)


def test_float01_labels_and_probabilities_are_not_copied():
    """float64 0/1 labels and float64 probabilities: no N-sized allocation at all."""
    rng = np.random.default_rng(3)
    n = 10**6
    y = (rng.uniform(size=n) < 0.5).astype(np.float64)
    p = rng.uniform(size=n)
    log_loss(y, p)  # warm-up
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        log_loss(y, p, sample_weight=p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # count_nonzero(y == 1) makes one bool temporary of n bytes (1/8 of y): nothing larger.
    assert peak <= n + 65536, f"peak {peak} bytes"


def test_pandas_series_input(rng):
    """pandas Series (labels as strings, probabilities as floats) work as in scikit-learn."""
    pd = pytest.importorskip("pandas")
    t, p = _data(rng)
    y = pd.Series(np.where(t == 1, "pos", "neg"))
    proba = pd.Series(p)
    _close(log_loss(y, proba), sk_log_loss(y, proba))
