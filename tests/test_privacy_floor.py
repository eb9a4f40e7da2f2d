"""The privacy floor from the command line to the build flags: an unenforceable floor never reaches a build."""

import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from edgeleak.errors import EdgeleakError
from edgeleak.privacy.floor import DEFAULT_DELTA, Floor, check_build_flags, floor_problem, resolve_floor


@pytest.mark.parametrize("epsilon,delta,needle", [
    (math.nan, 1e-5, "epsilon must be a finite number, got nan"),
    (math.inf, 1e-5, "epsilon must be a finite number, got inf"),
    (-math.inf, 1e-5, "epsilon must be a finite number"),
    (-1.0, 1e-5, "epsilon must be > 0, got -1"),
    (0.0, 1e-5, "epsilon must be > 0, got 0"),
    (8.0, math.nan, "delta must be a finite number, got nan"),
    (8.0, 0.0, "delta must be in (0, 0.001], got 0"),
    (8.0, -1e-5, "delta must be in (0, 0.001]"),
    (8.0, 2e-3, "delta must be in (0, 0.001], got 0.002"),
    (8.0, 1.0, "delta must be in (0, 0.001]"),
    ("8", 1e-5, "epsilon must be a number"),
    (True, 1e-5, "epsilon must be a number"),
])
def test_a_floor_that_cannot_be_enforced_is_refused_in_one_line(epsilon, delta, needle):
    assert needle in floor_problem(epsilon, delta)
    with pytest.raises(EdgeleakError) as info:
        Floor(epsilon, delta)
    assert needle in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("epsilon,delta", [(8.0, 1e-5), (0.01, 1e-3), (1e6, 1e-12), (3, 1e-9)])
def test_enforceable_floors_become_the_firmware_flags_and_back(epsilon, delta):
    floor = Floor(epsilon, delta)
    flags = floor.to_build_flags()
    assert flags[0].startswith("-DEL_FLOOR_EPSILON=") and flags[1].startswith("-DEL_FLOOR_DELTA=")
    assert check_build_flags(flags) == floor
    assert check_build_flags(("-DEL_TESTING_BUILD=1", *flags)) == floor
    assert Floor.from_json(floor.to_json()) == floor
    assert Floor(epsilon).delta == DEFAULT_DELTA == 1e-5


@pytest.mark.parametrize("flags,needle", [
    (("-DEL_FLOOR_MAX_CLIP=1.0f",), "EL_FLOOR_MAX_CLIP no longer exists"),
    (("-DEL_FLOOR_MIN_NOISE=0.5f",), "EL_FLOOR_MIN_NOISE no longer exists"),
    (("-DEL_FLOOR_EPSILON=8.0", "-DEL_FLOOR_MIN_NOISE=0.5f"), "EL_FLOOR_MIN_NOISE no longer exists"),
    (("-DEL_FLOOR_EPS=8.0",), "unknown floor setting EL_FLOOR_EPS"),
    (("-DEL_FLOOR_EPSILON=8.0", "-DEL_FLOOR_EPSILON=80.0"), "given twice"),
    (("-DEL_FLOOR_DELTA=1e-5",), "without -DEL_FLOOR_EPSILON"),
    (("-DEL_FLOOR_EPSILON",), "needs a decimal number"),
    (("-DEL_FLOOR_EPSILON=nan",), "needs a decimal number"),
    (("-DEL_FLOOR_EPSILON=INFINITY",), "needs a decimal number"),
    (("-DEL_FLOOR_EPSILON=-1.0",), "epsilon must be > 0"),
    (("-DEL_FLOOR_EPSILON=0",), "epsilon must be > 0"),
    (("-DEL_FLOOR_EPSILON=8.0", "-DEL_FLOOR_DELTA=0.01"), "delta must be in (0, 0.001]"),
    (("-DEL_FLOOR_EPSILON=1e400",), "epsilon must be a finite number"),
])
def test_floor_flags_given_directly_are_checked_the_same_way(flags, needle):
    with pytest.raises(EdgeleakError) as info:
        check_build_flags(flags)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_flags_without_a_floor_set_none():
    assert check_build_flags(()) is None
    assert check_build_flags(("-DEL_TESTING_BUILD=1", "-O2")) is None
    assert check_build_flags(("-DEL_FLOOR_EPSILON=2.5f",)) == Floor(2.5, 1e-5)


def test_the_command_line_wins_over_the_board():
    board = Floor(4.0, 1e-6)
    assert resolve_floor(board) == board
    assert resolve_floor(None) is None
    assert resolve_floor(board, epsilon=2.0) == Floor(2.0, 1e-5)  # a given epsilon takes the default delta
    assert resolve_floor(board, delta=1e-7) == Floor(4.0, 1e-7)
    assert resolve_floor(None, epsilon=2.0, delta=1e-4) == Floor(2.0, 1e-4)
    assert resolve_floor(board, disabled=True) is None
    with pytest.raises(EdgeleakError, match="needs a floor epsilon"):
        resolve_floor(None, delta=1e-6)
    with pytest.raises(EdgeleakError, match="takes no floor epsilon"):
        resolve_floor(board, epsilon=2.0, disabled=True)
    with pytest.raises(EdgeleakError, match="finite"):
        resolve_floor(board, epsilon=math.nan)


def test_builds_refuse_bad_floor_flags_before_touching_the_model(tmp_path):
    from edgeleak.boards import load_boards
    from edgeleak.device.build import build_for_model
    from edgeleak.device.flash import flash_board

    boards = load_boards()
    missing = tmp_path / "no-model"
    with pytest.raises(EdgeleakError, match="EL_FLOOR_MAX_CLIP no longer exists"):
        build_for_model(boards.get("host"), missing, flags=("-DEL_FLOOR_MAX_CLIP=1.0f",))
    with pytest.raises(EdgeleakError, match="finite"):
        build_for_model(boards.get("host"), missing, flags=("-DEL_FLOOR_EPSILON=8", "-DEL_FLOOR_DELTA=1e999"))
    with pytest.raises(EdgeleakError, match="EL_FLOOR_MIN_NOISE no longer exists"):
        flash_board(boards.get("nano33ble"), missing, port="/dev/null", flags=("-DEL_FLOOR_MIN_NOISE=0.5f",))


def test_the_build_cache_is_keyed_by_the_floor(tmp_path):
    from edgeleak.device.build import default_build_dir

    model = SimpleNamespace(path=Path(tmp_path))
    dirs = {default_build_dir(model, ()), default_build_dir(model, Floor(8.0).to_build_flags()),
            default_build_dir(model, Floor(4.0).to_build_flags()), default_build_dir(model, Floor(8.0, 1e-6).to_build_flags())}
    assert len(dirs) == 4
    assert default_build_dir(model, Floor(8.0).to_build_flags()) == default_build_dir(model, Floor(8.0).to_build_flags())


def test_a_session_plan_builds_its_floor_in():
    from edgeleak.fl.session import SessionPlan
    from edgeleak.train.config import TrainConfig

    plan = SessionPlan(devices=1, rounds=1, config=TrainConfig(), build_flags=("-DEL_TESTING_BUILD=1",), floor=Floor(8.0))
    assert plan.all_build_flags() == ("-DEL_TESTING_BUILD=1", "-DEL_FLOOR_EPSILON=8.0", "-DEL_FLOOR_DELTA=1e-05")
    assert SessionPlan(devices=1, rounds=1, config=TrainConfig()).all_build_flags() == ()
