"""Reference profile and drift verdicts on synthetic data with known shifts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.config import DriftThresholds, ThresholdsError
from {{ cookiecutter.package_name }}.contracts import FeatureSchema, FeatureSpec
from {{ cookiecutter.package_name }}.monitor.drift import detect_drift
from {{ cookiecutter.package_name }}.monitor.errors import (
    EmptyDataError,
    MissingColumnError,
    MonitorDataError,
    ProfileFormatError,
)
from {{ cookiecutter.package_name }}.monitor.profile import build_profile, load_profile, save_profile

from monitor_frames import make_frame, make_schema


def verdicts(res) -> dict[str, str]:
    return {f.name: f.verdict for f in res.features}


@pytest.mark.parametrize("n", [10_000, 100_000])
def test_stable_data_no_drift(n):
    ref, cur = make_frame(n, 1), make_frame(n, 2)
    prof = build_profile(ref, make_schema())
    res = detect_drift(prof, cur)
    assert verdicts(res) == {"x1": "no_drift", "x2": "no_drift", "colour": "no_drift"}
    assert res.status == "ok" and not res.dataset_drift
    json.dumps(res.to_dict(), allow_nan=False)


def test_mean_shift_detected():
    prof = build_profile(make_frame(10_000, 1), make_schema())
    res = detect_drift(prof, make_frame(10_000, 2, mean=0.5))
    v = verdicts(res)
    assert v["x1"] == "drift" and v["x2"] == "no_drift" and v["colour"] == "no_drift"
    x1 = res.features[0]
    assert x1.test == "ks" and x1.statistic > 0.15 and x1.p_value_adj < 1e-10 and x1.psi > 0.1
    assert res.dataset_drift  # 1 of 3 features >= share 0.3
    assert res.status == "drift"


def test_variance_change_detected():
    prof = build_profile(make_frame(10_000, 1), make_schema())
    res = detect_drift(prof, make_frame(10_000, 2, scale=np.sqrt(2.0)))
    assert verdicts(res)["x1"] == "drift"


def test_new_category_and_proportions():
    prof = build_profile(make_frame(10_000, 1), make_schema())
    res = detect_drift(prof, make_frame(10_000, 2, new_cat_share=0.05))
    c = res.features[2]
    assert c.verdict == "drift" and c.new_categories == ["purple"]
    assert c.new_category_share == pytest.approx(0.05, abs=0.01)
    res = detect_drift(prof, make_frame(10_000, 3, probs=[0.1, 0.2, 0.3, 0.4]))
    c = res.features[2]
    assert c.verdict == "drift" and c.cramers_v > 0.1 and c.new_categories == []


def test_missing_rate_increase_detected():
    prof = build_profile(make_frame(10_000, 1, missing_x2=0.01), make_schema())
    res = detect_drift(prof, make_frame(10_000, 2, missing_x2=0.2))
    x2 = res.features[1]
    assert x2.verdict == "drift" and x2.missing_drift and not x2.distribution_drift
    assert x2.missing_rate_current == pytest.approx(0.2, abs=0.02)
    # small but significant missing change below the 5-point threshold: not flagged
    res = detect_drift(prof, make_frame(10_000, 2, missing_x2=0.03))
    assert res.features[1].verdict == "no_drift"


def test_prediction_drift_classification_and_regression():
    ref, cur = make_frame(20_000, 1), make_frame(20_000, 2)
    prof = build_profile(ref, make_schema(), reference_predictions=(ref["x1"] > 0).astype(int))
    cur["prediction"] = (cur["x1"] > 0).astype(int)
    res = detect_drift(prof, cur)
    assert res.prediction is not None and res.prediction.verdict == "no_drift"
    cur["prediction"] = (cur["x1"] > -0.5).astype(int)  # many more positives
    res = detect_drift(prof, cur)
    assert res.prediction.verdict == "drift" and res.prediction.test == "chi2"
    assert res.prediction_drift and res.status == "drift"
    # regression -> numeric tests
    prof_r = build_profile(ref, make_schema("regression"), reference_predictions=ref["x1"] * 2)
    cur["prediction"] = cur["x1"] * 2 + 1.0
    res = detect_drift(prof_r, cur)
    assert res.prediction.test == "ks" and res.prediction.verdict == "drift"


def test_negligible_shift_at_1m_rows_is_significant_but_not_flagged():
    n = 1_000_000
    rng = np.random.default_rng(11)
    features = (FeatureSpec(name="x", kind="numeric"),)
    schema = FeatureSchema(target="y", problem_type="regression", features=features)
    prof = build_profile(pd.DataFrame({"x": rng.normal(0, 1, n)}), schema)
    assert not prof.columns["x"].exact  # 1M distinct values -> quantile sketch
    res = detect_drift(prof, pd.DataFrame({"x": rng.normal(0.01, 1, n)}))
    f = res.features[0]
    assert f.p_value_adj < 1e-6  # statistically significant ...
    assert f.statistic < 0.02 and f.psi < 0.01  # ... but negligible effect
    assert f.verdict == "no_drift" and res.status == "ok"


# ----------------------------------------------------------------------------- edge cases


def test_constant_columns():
    features = (FeatureSpec(name="k", kind="numeric"), FeatureSpec(name="c", kind="categorical"))
    schema = FeatureSchema(target="y", problem_type="regression", features=features)
    ref = pd.DataFrame({"k": np.full(1000, 3.0), "c": ["a"] * 1000})
    prof = build_profile(ref, schema)
    res = detect_drift(prof, pd.DataFrame({"k": np.full(500, 3.0), "c": ["a"] * 500}))
    assert verdicts(res) == {"k": "no_drift", "c": "no_drift"}
    assert res.features[0].statistic == 0.0 and res.features[0].psi == 0.0
    res = detect_drift(prof, pd.DataFrame({"k": np.full(500, 4.0), "c": ["b"] * 500}))
    assert verdicts(res) == {"k": "drift", "c": "drift"}
    json.dumps(res.to_dict(), allow_nan=False)


def test_all_missing_current_column():
    prof = build_profile(make_frame(5000, 1), make_schema())
    cur = make_frame(2000, 2)
    cur["x1"] = np.nan
    cur["colour"] = None
    res = detect_drift(prof, cur)
    for f in (res.features[0], res.features[2]):
        assert f.verdict == "drift" and f.missing_drift and f.missing_rate_current == 1.0
        assert f.test is None and f.p_value is None
    s = json.dumps(res.to_dict(), allow_nan=False)
    assert "NaN" not in s


def test_tiny_sample_insufficient_data():
    prof = build_profile(make_frame(5000, 1), make_schema())
    res = detect_drift(prof, make_frame(10, 2, mean=5.0))
    assert set(verdicts(res).values()) == {"insufficient_data"}
    assert res.status == "insufficient_data" and not res.dataset_drift
    json.dumps(res.to_dict(), allow_nan=False)


def test_empty_current_raises_clear_error():
    prof = build_profile(make_frame(1000, 1), make_schema())
    with pytest.raises(EmptyDataError, match="no rows") as ei:
        detect_drift(prof, make_frame(1000, 2).iloc[:0])
    assert isinstance(ei.value, ValueError)


def test_missing_schema_column_raises_naming_it():
    prof = build_profile(make_frame(1000, 1), make_schema())
    with pytest.raises(MissingColumnError, match="'colour'"):
        detect_drift(prof, make_frame(1000, 2).drop(columns=["colour"]))


def test_non_numeric_values_in_numeric_column():
    prof = build_profile(make_frame(1000, 1), make_schema())
    cur = make_frame(1000, 2).astype({"x1": object})
    cur.loc[3, "x1"] = "oops"
    with pytest.raises(MonitorDataError, match="x1"):
        detect_drift(prof, cur)


def test_critical_feature_makes_dataset_drift():
    ref = make_frame(10_000, 1)
    ref["z1"], ref["z2"], ref["z3"] = ref["x1"] * 0 + np.random.default_rng(0).normal(size=10_000), 1.0, 2.0
    prof = build_profile(ref, make_schema(extra_numeric=("z1", "z2", "z3")))
    cur = make_frame(10_000, 2, mean=0.5)
    cur["z1"], cur["z2"], cur["z3"] = np.random.default_rng(1).normal(size=10_000), 1.0, 2.0
    res = detect_drift(prof, cur)
    assert (
        res.n_drifted == 1 and res.share_drifted < 0.3 and not res.dataset_drift and res.status == "warning"
    )
    res = detect_drift(prof, cur, DriftThresholds(critical_features=("x1",)))
    assert res.dataset_drift and res.critical_drifted == ["x1"]


def test_profile_roundtrip(tmp_path):
    ref = make_frame(20_000, 1, missing_x2=0.05)
    prof = build_profile(ref, make_schema(), reference_predictions=(ref["x1"] > 0).astype(int))
    path = save_profile(prof, tmp_path / "p.npz")
    loaded = load_profile(path)
    cur = make_frame(5000, 2, mean=0.3)
    cur["prediction"] = (cur["x1"] > 0).astype(int)
    a, b = detect_drift(prof, cur).to_dict(), detect_drift(loaded, cur).to_dict()
    assert a == b
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["__meta__"]))
    assert meta["format_version"] == 1


def test_profile_bad_version(tmp_path):
    prof = build_profile(make_frame(100, 1), make_schema())
    path = save_profile(prof, tmp_path / "p.npz")
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(str(arrays["__meta__"]))
    meta["format_version"] = 99
    arrays["__meta__"] = np.array(json.dumps(meta))
    np.savez_compressed(path, **arrays)
    with pytest.raises(ProfileFormatError, match="format_version"):
        load_profile(path)
    with pytest.raises(ProfileFormatError, match="not found"):
        load_profile(tmp_path / "nope.npz")


def test_thresholds_validation():
    with pytest.raises(ThresholdsError, match="bogus: Extra inputs are not permitted"):
        DriftThresholds.from_dict({"alpha": 0.01, "bogus": 1})
    t = DriftThresholds.from_dict({"alpha": 0.01, "critical_features": ["x1"]})
    assert t.critical_features == ("x1",) and t.to_dict()["critical_features"] == ["x1"]
    with pytest.raises(ValidationError, match="frozen"):
        t.alpha = 0.2
    with pytest.raises(ThresholdsError, match="alpha: Input should be greater than 0"):
        DriftThresholds.from_dict({"alpha": 0})
