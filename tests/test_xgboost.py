"""cbce.xgboost trains real XGBoost models like the built-in binary:logistic (docs/guide/gbdt.md).

load_breast_cancer ships inside scikit-learn (no download). XGBoost computes its built-in
gradients in float32 and cbce in float64 rounded once, so trees agree and predicted
probabilities agree to ~1e-7; the bound asked is 1e-6. XGBoost's logloss is computed from
float32 probabilities: one float32 ulp of p near 1 moves -log p by ~6e-8, so metrics are
compared to 1e-6 absolute.
"""
import numpy as np
import pytest
from scipy.special import expit

try:
    import xgboost as xgb
except Exception as exc:  # not installed, or its library cannot load (macOS without libomp)
    pytest.skip(f"xgboost cannot be imported ({exc}); pip install xgboost-cpu (macOS: xgboost)",
                allow_module_level=True)
from sklearn.datasets import load_breast_cancer  # noqa: E402

import cbce.xgboost as cxgb  # noqa: E402

ROUNDS = 50
PARAMS = {"tree_method": "hist", "eta": 0.3, "max_depth": 3, "nthread": 1, "seed": 0}
# The built-in starts from base_score 0.5 (probability, margin 0); with a custom objective
# xgb.train reads base_score as a margin, so 0 there is the same start.
BUILTIN = {**PARAMS, "objective": "binary:logistic", "base_score": 0.5}
CUSTOM = {**PARAMS, "base_score": 0.0}
SKLEARN = dict(n_estimators=ROUNDS, learning_rate=0.3, max_depth=3, n_jobs=1,
               tree_method="hist", base_score=0.5, random_state=0)


@pytest.fixture(scope="module")
def data():
    X, y = load_breast_cancer(return_X_y=True)
    w = np.random.default_rng(8).uniform(0.5, 2.0, y.size)
    return X, y, w


def _margins_vs_probs(builtin, custom, dmat):
    """max |p_builtin − sigmoid(margin_custom)| over the training set."""
    p = builtin.predict(dmat).astype(np.float64)
    return np.max(np.abs(p - expit(custom.predict(dmat, output_margin=True).astype(np.float64))))


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample-weights"])
def test_default_objective_reproduces_binary_logistic(data, weighted):
    """objective() trains the predictions of binary:logistic to 1e-6 (weights from the DMatrix)."""
    X, y, w = data
    d = xgb.DMatrix(X, label=y, weight=w if weighted else None)
    builtin = xgb.train(BUILTIN, d, ROUNDS)
    custom = xgb.train(CUSTOM, d, ROUNDS, obj=cxgb.objective())
    assert _margins_vs_probs(builtin, custom, d) <= 1e-6


@pytest.mark.parametrize("pos_weight", [0.2, 5.0])
def test_pos_weight_reproduces_scale_pos_weight(data, pos_weight):
    """objective(pos_weight=s) trains the predictions of binary:logistic with scale_pos_weight=s."""
    X, y, _ = data
    d = xgb.DMatrix(X, label=y)
    builtin = xgb.train({**BUILTIN, "scale_pos_weight": pos_weight}, d, ROUNDS)
    custom = xgb.train(CUSTOM, d, ROUNDS, obj=cxgb.objective(pos_weight=pos_weight))
    plain = xgb.train(BUILTIN, d, ROUNDS)
    assert _margins_vs_probs(builtin, custom, d) <= 1e-6
    assert _margins_vs_probs(plain, custom, d) > 1e-3  # pos_weight did change the model


@pytest.mark.parametrize("pos_weight", [None, 5.0], ids=["default", "pos_weight"])
def test_sklearn_objective_reproduces_xgbclassifier(data, pos_weight):
    """XGBClassifier(objective=sklearn_objective()) predicts as XGBClassifier(), sample weights
    passed through fit, pos_weight as scale_pos_weight."""
    X, y, w = data
    builtin = xgb.XGBClassifier(**SKLEARN, scale_pos_weight=pos_weight or 1.0)
    custom = xgb.XGBClassifier(**SKLEARN, objective=cxgb.sklearn_objective(pos_weight=pos_weight))
    builtin.fit(X, y, sample_weight=w)
    custom.fit(X, y, sample_weight=w)
    assert np.max(np.abs(builtin.predict_proba(X) - custom.predict_proba(X))) <= 1e-6


def test_metric_equals_xgboost_logloss_every_round(data):
    """metric(from_logits=False) next to the built-in objective gives XGBoost's logloss at every
    round; metric() on the margins gives it too (weighted)."""
    X, y, w = data
    d = xgb.DMatrix(X, label=y, weight=w)
    log = {}
    booster = xgb.train({**BUILTIN, "eval_metric": "logloss"}, d, ROUNDS, evals=[(d, "train")],
                        custom_metric=cxgb.metric(from_logits=False), evals_result=log,
                        verbose_eval=False)
    theirs = np.array(log["train"]["logloss"])
    ours = np.array(log["train"]["cbce_logloss"])
    assert np.max(np.abs(ours - theirs)) <= 1e-6
    margins = booster.predict(d, output_margin=True)
    assert abs(cxgb.metric()(margins, d)[1] - theirs[-1]) <= 1e-6


def test_sklearn_metric_with_custom_objective_equals_logloss(data):
    """eval_metric=sklearn_metric() with the cbce objective records, per round, the logloss the
    built-in model records (the metric receives margins there)."""
    X, y, w = data
    fit = dict(sample_weight=w, eval_set=[(X, y)], sample_weight_eval_set=[w], verbose=False)
    builtin = xgb.XGBClassifier(**SKLEARN, eval_metric="logloss").fit(X, y, **fit)
    custom = xgb.XGBClassifier(**SKLEARN, objective=cxgb.sklearn_objective(),
                               eval_metric=cxgb.sklearn_metric()).fit(X, y, **fit)
    theirs = np.array(builtin.evals_result()["validation_0"]["logloss"])
    ours = np.array(custom.evals_result()["validation_0"]["cbce_logloss"])
    assert ours.shape == (ROUNDS,)
    assert np.max(np.abs(ours - theirs)) <= 1e-6


def test_label_smoothing_equals_training_on_smoothed_labels(data):
    """label_smoothing=0.2 on 0/1 labels trains the model that soft labels y·0.8 + 0.1 train
    (to the rounding of those labels to float32 in the DMatrix)."""
    X, y, _ = data
    smoothed = xgb.train(CUSTOM, xgb.DMatrix(X, label=y), ROUNDS,
                         obj=cxgb.objective(label_smoothing=0.2))
    d_soft = xgb.DMatrix(X, label=y * 0.8 + 0.1)
    soft = xgb.train(CUSTOM, d_soft, ROUNDS, obj=cxgb.objective())
    np.testing.assert_allclose(smoothed.predict(d_soft, output_margin=True),
                               soft.predict(d_soft, output_margin=True), rtol=0, atol=1e-5)
