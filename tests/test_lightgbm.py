"""cbce.lightgbm trains real LightGBM models like the built-in "binary" objective (docs/guide/gbdt.md).

load_breast_cancer ships inside scikit-learn (no download). LightGBM computes its binary
gradients in double and stores them as float32, as it stores a custom objective's, so the models
agree to the last bit here; the bound asked is 1e-6. A custom objective starts from a score of 0:
the built-in runs with boost_from_average=False for the same start.
"""
import inspect
import warnings

import numpy as np
import pytest
from scipy.special import expit

try:
    import lightgbm as lgb
except Exception as exc:  # not installed, or its library cannot load (macOS without libomp)
    pytest.skip(f"lightgbm cannot be imported ({exc}); pip install lightgbm",
                allow_module_level=True)
from sklearn.datasets import load_breast_cancer  # noqa: E402

import cbce.lightgbm as clgb  # noqa: E402

ROUNDS = 100
PARAMS = {"learning_rate": 0.1, "num_leaves": 15, "num_threads": 1, "verbose": -1,
          "deterministic": True, "force_row_wise": True, "seed": 0}
BUILTIN = {**PARAMS, "objective": "binary", "boost_from_average": False}
SKLEARN = dict(n_estimators=ROUNDS, learning_rate=0.1, num_leaves=15, n_jobs=1, verbose=-1,
               deterministic=True, force_row_wise=True, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = load_breast_cancer(return_X_y=True)
    w = np.random.default_rng(9).uniform(0.5, 2.0, y.size)
    return X, y, w


def _dataset(X, y, w=None):
    return lgb.Dataset(X, y, weight=w, free_raw_data=False)


def _max_prob_diff(builtin, custom, X):
    return np.max(np.abs(builtin.predict(X) - expit(custom.predict(X, raw_score=True))))


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample-weights"])
def test_default_objective_reproduces_binary(data, weighted):
    """objective() trains the predictions of "binary" to 1e-6 (weights from the Dataset)."""
    X, y, w = data
    w = w if weighted else None
    builtin = lgb.train(BUILTIN, _dataset(X, y, w), ROUNDS)
    custom = lgb.train({**PARAMS, "objective": clgb.objective()}, _dataset(X, y, w), ROUNDS)
    assert _max_prob_diff(builtin, custom, X) <= 1e-6


@pytest.mark.parametrize("pos_weight", [0.2, 5.0])
def test_pos_weight_reproduces_scale_pos_weight(data, pos_weight):
    """objective(pos_weight=s) trains the predictions of "binary" with scale_pos_weight=s."""
    X, y, _ = data
    builtin = lgb.train({**BUILTIN, "scale_pos_weight": pos_weight}, _dataset(X, y), ROUNDS)
    custom = lgb.train({**PARAMS, "objective": clgb.objective(pos_weight=pos_weight)},
                       _dataset(X, y), ROUNDS)
    plain = lgb.train(BUILTIN, _dataset(X, y), ROUNDS)
    assert _max_prob_diff(builtin, custom, X) <= 1e-6
    assert _max_prob_diff(plain, custom, X) > 1e-3  # pos_weight did change the model


@pytest.mark.parametrize("pos_weight", [None, 5.0], ids=["default", "pos_weight"])
def test_sklearn_objective_reproduces_lgbmclassifier(data, pos_weight):
    """LGBMClassifier(objective=sklearn_objective()) predicts as LGBMClassifier(), weights from fit."""
    X, y, w = data
    builtin = lgb.LGBMClassifier(**SKLEARN, boost_from_average=False,
                                 scale_pos_weight=pos_weight or 1.0).fit(X, y, sample_weight=w)
    custom = lgb.LGBMClassifier(**SKLEARN, objective=clgb.sklearn_objective(pos_weight=pos_weight))
    custom.fit(X, y, sample_weight=w)
    with warnings.catch_warnings():  # LightGBM warns that raw scores are returned
        warnings.simplefilter("ignore")
        raw = custom.predict(X, raw_score=True)
    assert np.max(np.abs(builtin.predict_proba(X)[:, 1] - expit(raw))) <= 1e-6


def test_metric_equals_binary_logloss_every_round(data):
    """metric(from_logits=False) next to the built-in objective gives LightGBM's binary_logloss at
    every round, to 1e-13 relative; metric() on raw scores gives it too (weighted)."""
    X, y, w = data
    d = _dataset(X, y, w)
    log = {}
    booster = lgb.train({**BUILTIN, "metric": "binary_logloss"}, d, ROUNDS, valid_sets=[d],
                        valid_names=["train"], feval=clgb.metric(from_logits=False),
                        callbacks=[lgb.record_evaluation(log)])
    theirs = np.array(log["train"]["binary_logloss"])
    ours = np.array(log["train"]["cbce_logloss"])
    np.testing.assert_allclose(ours, theirs, rtol=1e-13)
    raw = booster.predict(X, raw_score=True)
    np.testing.assert_allclose(clgb.metric()(raw, d)[1], theirs[-1], rtol=1e-13)


def _eval_kwargs(X, y, w):
    """One validation set for LGBMClassifier.fit (eval_X/eval_y from LightGBM 4.7, eval_set
    before)."""
    if "eval_X" in inspect.signature(lgb.LGBMClassifier.fit).parameters:
        return dict(eval_X=(X,), eval_y=(y,), eval_sample_weight=[w])
    return dict(eval_set=[(X, y)], eval_sample_weight=[w])


def test_sklearn_metric_with_custom_objective_equals_binary_logloss(data):
    """eval_metric=sklearn_metric() with the cbce objective records, per round, the
    binary_logloss the built-in model records (the metric receives raw scores there)."""
    X, y, w = data
    train, valid = slice(0, None, 2), slice(1, None, 2)
    fit = dict(sample_weight=w[train], **_eval_kwargs(X[valid], y[valid], w[valid]))
    builtin = lgb.LGBMClassifier(**SKLEARN, boost_from_average=False).fit(
        X[train], y[train], eval_metric="binary_logloss", **fit)
    custom = lgb.LGBMClassifier(**SKLEARN, objective=clgb.sklearn_objective()).fit(
        X[train], y[train], eval_metric=clgb.sklearn_metric(), **fit)
    theirs = np.array(builtin.evals_result_["valid_0"]["binary_logloss"])
    ours = np.array(custom.evals_result_["valid_0"]["cbce_logloss"])
    assert ours.shape == (ROUNDS,)
    np.testing.assert_allclose(ours, theirs, rtol=1e-13)
