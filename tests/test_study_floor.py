"""The study with a privacy floor: its configuration, and a report that shows what the devices enforced."""

import math

import pytest

from edgeleak.errors import EdgeleakError
from edgeleak.privacy.floor import Floor
from edgeleak.study.config import load_study_config
from edgeleak.study.report import enforcement_rows, impact_text, markdown_summary, recommend, write_report


def test_a_study_config_may_floor_every_setting_or_one(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_text("quick: true\nfloor: {epsilon: 8.0}\nsettings:\n"
                    "  - {name: a, clip_mode: update, clip_norm: 0.1, noise_kind: gaussian, noise_multiplier: 2.0}\n"
                    "  - {name: b, clip_mode: update, clip_norm: 0.1, noise_kind: gaussian, noise_multiplier: 4.0,"
                    " floor: {epsilon: 2.0, delta: 1.0e-6}}\n")
    study = load_study_config(path, "default")
    a, b = study.settings
    assert study.floor == Floor(8.0, 1e-5) and a.floor is None and b.floor == Floor(2.0, 1e-6)
    assert study.floor_of(a) == Floor(8.0, 1e-5) and study.floor_of(b) == Floor(2.0, 1e-6)
    assert load_study_config(None, "quick").floor is None  # the defaults stay unfloored


@pytest.mark.parametrize("text,needle", [
    ("floor: {epsilon: .nan}\n", "finite number, got nan"),
    ("floor: {epsilon: -2}\n", "epsilon must be > 0"),
    ("floor: 8\n", "floor must be a mapping with epsilon"),
    ("settings:\n  - {name: x, floor: {epsilon: 1.0, delta: 0.5}}\n", "study setting 'x': floor: the privacy floor's delta"),
])
def test_a_study_floor_that_cannot_be_enforced_is_refused(tmp_path, text, needle):
    path = tmp_path / "study.yaml"
    path.write_text(text)
    with pytest.raises(EdgeleakError) as info:
        load_study_config(path, "quick")
    assert needle in str(info.value) and "\n" not in str(info.value)


def _result(name, sigma, epsilon, enforced=None, pearson=0.2):
    result = {
        "name": name, "model": "mlp", "classes": 4,
        "config": {"clip_mode": "update", "clip_norm": 0.1, "noise_kind": "gaussian" if sigma else "none",
                   "noise_multiplier": sigma, "sparsify": "none"},
        "accuracy_before": 0.5, "accuracy_after": 0.6, "epsilon": epsilon, "epsilon_rdp": epsilon, "delta": 1e-5,
        "privacy_unit": "stored sample set", "kappa": 0.01, "rero_bound": 0.5, "measured_success": 0.0,
        "bound_violated": False, "seconds": 1.0, "examples": {},
        "attacks": [{"attack": "analytic", "records": 2, "success_rate": 0.0, "success_interval": [0, 1], "pearson": pearson,
                     "max_pearson": pearson, "label_accuracy": 0.25, "feature_error": 1.0, "seconds_per_record": 0.1,
                     "not_applicable": ""}],
    }
    if enforced is not None:
        result["enforced"] = enforced
    return result


def _enforced(floor_epsilon, spent, refused=""):
    return {"build_floor": {"epsilon": floor_epsilon, "delta": 1e-5}, "floor_epsilon": floor_epsilon, "floor_delta": 1e-5,
            "entropy": "emulator host", "testing_build": False, "epsilon_spent": spent, "refused": refused}


def test_the_report_puts_what_the_device_enforced_next_to_what_the_server_asked(tmp_path):
    from edgeleak.study.results import from_json

    results = [from_json(r) for r in (
        _result("old", 1.0, 5.0),  # results.json of an edgeleak before the floor was recorded
        _result("clip-noise-2", 2.0, 4.0, _enforced(8.0, 4.6)),
        {**_result("clip-noise-0.5", 0.5, 40.0, _enforced(8.0, None, "E_BUDGET: device 0 refused round 0"), pearson=0.0),
         "attacks": [], "accuracy_after": None},
    )]
    study = {"board": "mps2-an386", "dataset": "basic_motions", "devices": 2, "rounds": 3}
    rows = {r[0]: r for r in enforcement_rows(results, study)}
    assert rows["old"][5:] == ["unknown", "unknown", "unknown", "ran"]
    assert rows["clip-noise-2"][1:4] == ["2", "0.1", "3"]
    assert rows["clip-noise-2"][5:] == ["8 (1e-05)", "4.6", "emulator host (functional test)", "ran"]
    assert rows["clip-noise-0.5"][-1] == "E_BUDGET" and rows["clip-noise-0.5"][6] == "unknown"
    # A refused setting released nothing: it is neither recommended nor counted as leaking; the text says why.
    assert recommend(results).name != "clip-noise-0.5"
    assert any("refused 1 setting(s)" in line and "clip-noise-0.5" in line for line in impact_text(results))
    assert "refused by the device" in markdown_summary(results)
    write_report(results, study, tmp_path)
    html = (tmp_path / "report.html").read_text()
    assert "requested by the server" in html and "enforced on the device" in html and "E_BUDGET" in html


def test_the_audit_skips_a_setting_the_floor_refused(tmp_path):
    import json

    from edgeleak.study.audit import Policy, measure_target, violations

    results = [_result("ran", 2.0, 4.0, _enforced(8.0, 4.6), pearson=0.9),
               {**_result("refused", 0.0, math.inf, _enforced(8.0, None, "E_FLOOR: no noise")), "attacks": []}]
    from edgeleak import strict_json

    text = strict_json.dumps({"study": {}, "settings": results})
    assert "Infinity" not in text and "NaN" not in text  # ε = ∞ is written as null and read back as ∞
    (tmp_path / "results.json").write_text(text)
    measured = measure_target(tmp_path, Policy(max_epsilon=8.0))
    assert [m.name for m in measured] == ["ran"]
    assert violations(Policy(max_epsilon=8.0, max_pearson_r=0.5), measured) == ["ran: reconstruction Pearson r 0.900 > max_pearson_r 0.5"]
