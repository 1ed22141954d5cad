"""The option rules are written once (cbce._api.OPTION_RULES and the messages beside it); the
facade's general path, its C-level fast path (`_kernels.fast`) and the C API (`_capi_run`, called
here through the capsule table with ctypes) accept and reject the same boundary values."""
import math
import re

import numpy as np
import pytest

import cbce
from cbce import _api
from cbce._dispatch import kernels as _kernels

import _capi


_Y = np.array([0.0, 1.0, 0.25, 1.0])
_P4 = np.array([0.1, 0.9, 0.5, 0.3])


def _c_accepts(**fields):
    """Whether the C API's float64 loss accepts these option fields (defaults otherwise)."""
    rc, _, bad = _capi.run("loss", _Y, _P4, options=fields)
    assert rc in (_capi.OK, _capi.ERR_ARGUMENT) and bad == -1
    return rc == _capi.OK


def _fast_accepts(from_logits=False, label_smoothing=0.0, eps=None, reduction="mean",
                  n_threads=None):
    return _kernels.fast(_kernels.OPS["loss"], _Y, _P4, from_logits, label_smoothing, eps,
                         reduction, n_threads, {}) is not None


def _outcome(call):
    """None if the call succeeds, else (exception type, message)."""
    try:
        call()
    except (TypeError, ValueError) as e:
        return type(e), str(e)
    return None


def _python(weights, **kw):
    """The public call; with weights it skips the fast path (the general checks only)."""
    w = np.ones_like(_Y) if weights else None
    return _outcome(lambda: cbce.bce(_Y, _P4, sample_weight=w, **kw))


def _boundaries(rule):
    """Each end of the range, its neighbours on both sides, and the non-finite values."""
    vals = []
    for end in (rule.lo, rule.hi):
        if math.isfinite(end):
            vals += [end, math.nextafter(end, -math.inf), math.nextafter(end, math.inf)]
    return vals + [math.inf, -math.inf, math.nan, 2**1100, -(2**1100)]


def _expected(rule, v):
    return rule.admits(_api._as_float(v))


REAL_CASES = [(name, v) for name in ("label_smoothing", "eps")
              for v in _boundaries(_api.OPTION_RULES[name])]


@pytest.mark.parametrize("name,value", REAL_CASES, ids=[f"{n}={v!r}" for n, v in REAL_CASES])
def test_real_option_boundaries_agree_on_every_path(name, value):
    """label_smoothing and eps: general path, fast path and C API agree with the table."""
    rule = _api.OPTION_RULES[name]
    ok = _expected(rule, value)
    want = None if ok else (ValueError, rule.range_msg.format(value))
    assert _python(True, **{name: value}) == want
    assert _python(False, **{name: value}) == want
    if isinstance(value, float):
        assert _fast_accepts(**{name: value}) == ok
        if not (name == "eps" and value == 0.0):      # eps = 0 is C's "None"
            assert _c_accepts(**{name: value}) == ok


@pytest.mark.parametrize("name", ["gamma", "alpha"])
def test_focal_option_boundaries_follow_the_table(name):
    """gamma and alpha (Python only: the C API has no focal options) follow the table."""
    rule = _api.OPTION_RULES[name]
    for v in _boundaries(rule):
        kw = {"gamma": 1.0, "alpha": 0.5, name: v}
        want = None if _expected(rule, v) else (ValueError, rule.range_msg.format(v))
        assert _outcome(lambda: cbce.bce(_Y, _P4, **kw)) == want, v


@pytest.mark.parametrize("name", sorted(_api.OPTION_RULES))
@pytest.mark.parametrize("value", [True, "0.1", [0.1]], ids=repr)
def test_real_options_reject_non_reals_with_the_table_message(name, value):
    """A bool, a string or a list is a TypeError naming the option, on every Python path."""
    msg = (TypeError, _api.OPTION_RULES[name].type_msg.format(value))
    kw = {name: value}
    if name in ("gamma", "alpha"):
        kw = {"gamma": 1.0, "alpha": 0.5, name: value}
    assert _outcome(lambda: cbce.bce(_Y, _P4, **kw)) == msg
    assert _outcome(lambda: cbce.bce(_Y, _P4, sample_weight=np.ones(4), **kw)) == msg
    if name in ("label_smoothing", "eps"):
        assert not _fast_accepts(**{name: value})


def test_eps_with_logits_is_rejected_on_every_path():
    """eps clips probabilities: Python raises the table's message, fast defers, C says no."""
    want = (ValueError, _api.EPS_LOGITS_MSG)
    assert _python(True, from_logits=True, eps=0.1) == want
    assert _python(False, from_logits=True, eps=0.1) == want
    assert not _fast_accepts(from_logits=True, eps=0.1)
    assert not _c_accepts(from_logits=1, eps=0.1)
    assert _c_accepts(from_logits=1, eps=0.0)


@pytest.mark.parametrize("value", list(_kernels.REDUCTIONS) + ["MEAN", "avg", None, 2],
                         ids=repr)
def test_reduction_names_agree_on_every_path(value):
    """The names accepted are the C codes CBCE_REDUCTION_* (0..3); others are rejected."""
    ok = value in _kernels.REDUCTIONS
    want = None if ok else (ValueError, _api.REDUCTION_MSG.format(sorted(_kernels.REDUCTIONS),
                                                                   value))
    assert _python(True, reduction=value) == want
    assert _python(False, reduction=value) == want
    assert _fast_accepts(reduction=value) == ok


def test_reduction_codes_in_c():
    """The C API accepts exactly the codes of the names."""
    assert sorted(_kernels.REDUCTIONS.values()) == [0, 1, 2, 3]
    assert [_c_accepts(reduction=r) for r in (-1, 0, 1, 2, 3, 4)] == [False] + [True] * 4 + [False]


@pytest.mark.parametrize("value,ok", [(None, True), (1, True), (2**31 - 1, True), (2**40, True),
                                      (np.int64(3), True), (0, False), (-1, False),
                                      (True, False), (1.0, False)], ids=repr)
def test_n_threads_agrees_with_the_rule(value, ok):
    """n_threads: None or an int >= 1 (capped); the fast path never accepts a rejected value."""
    assert (_python(True, n_threads=value) is None) == ok
    assert _python(False, n_threads=value) == _python(True, n_threads=value)
    if not ok:
        assert re.match(r"n_threads must be a positive int or None; got ",
                        _python(True, n_threads=value)[1])
    if _fast_accepts(n_threads=value):
        assert ok


def test_n_threads_in_c_takes_every_int():
    """In C, n_threads <= 0 means OpenMP's default (Python's None)."""
    assert all(_c_accepts(n_threads=v) for v in (-(2**31), -1, 0, 1, 2**31 - 1))
