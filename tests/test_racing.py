"""The race helper the concurrency tests share: racers really overlap, and a failing racer is reported."""

import threading

import pytest

from tests.racing import race


def test_the_racers_run_at_the_same_time():
    together = threading.Barrier(3)  # passed only if all three racers are inside run() at once

    def run(entry: int) -> int:
        together.wait(timeout=10)
        return entry

    assert sorted(race(run, [1, 2, 3])) == [1, 2, 3]


def test_a_racer_that_raises_leaves_its_error_as_its_outcome():
    def run(entry: int) -> str:
        if entry == 2:
            raise ValueError("第二个失败")
        return "ok"

    assert sorted(race(run, [1, 2])) == ["ValueError('第二个失败')", "ok"]
    assert sorted(race(run, [1, 2], failed=lambda exc: (599, str(exc))), key=str) == [(599, "第二个失败"), "ok"]


def test_a_racer_that_does_not_finish_fails_the_race():
    release = threading.Event()
    with pytest.raises(AssertionError, match="did not finish"):
        race(lambda entry: release.wait(timeout=5) if entry else None, [0, 1], timeout=0.5)
    release.set()
