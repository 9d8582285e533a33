"""How ``make bench`` judges a hot path whose figure includes the AWS emulator's time
(bench.wire, bench.common.Result): the time on the wire counts once for calls made in
parallel, a figure over its budget only by that time is EMULATOR-BOUND and met, unless
the run is strict, and the code's part over the budget is still a miss."""

from __future__ import annotations

import pytest

from bench import wire
from bench.__main__ import spec_table, verdict_line
from bench.common import EMULATOR_BOUND, Result
from bench.wire import WireLog


def _login(ratio: float, code_ratio: float | None) -> Result:
    return Result(
        name="login / argon2id verify (new browser)", measured="", budget=1.5, ratio=ratio, code_ratio=code_ratio
    )


def test_calls_on_the_wire_at_once_count_once_and_the_gaps_between_them_not_at_all() -> None:
    # Given three calls sent together from worker threads (the emulator answering them in
    # turn) and, later, one more call
    log = WireLog(intervals=[(0.0, 4.0), (0.0, 8.0), (1.0, 12.0), (20.0, 23.0)])

    # Then the time waiting is the union of the intervals: 12 ms, then 3 ms
    assert log.waiting() == pytest.approx(15.0)
    # And an empty log waited for nothing
    assert WireLog().waiting() == 0.0


def test_a_hot_path_and_its_verify_are_timed_in_the_same_rounds(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a clock that moves only when told, a hot path of 30 ms of which 20 ms wait on
    # the wire, and a verify of 25 ms
    now, order, logs = [0.0], [], []
    monkeypatch.setattr(wire.time, "perf_counter", lambda: now[0])

    class _Wire:
        def __enter__(self) -> WireLog:
            logs.append(WireLog())
            return logs[-1]

        def __exit__(self, *_: object) -> None:
            return None

    monkeypatch.setattr(wire, "on_the_wire", _Wire)

    def action() -> None:
        order.append("action")
        if logs:
            logs[-1].intervals.append((now[0] + 0.005, now[0] + 0.025))
        now[0] += 0.030

    def verify() -> None:
        order.append("verify")
        now[0] += 0.025

    # When three rounds are measured after one warm-up
    split, verified = wire.interleaved_split(action, verify, 3, prepare=lambda: order.append("prepare"))

    # Then each round prepares, runs the path and then the verify, the warm-up untimed
    assert order == ["prepare", "action", "verify"] * 4 and len(logs) == 3
    # And the path's code's part is its time less its time on the wire, beside the verify
    assert (split.total, split.waiting, split.code) == pytest.approx((0.030, 0.020, 0.010))
    assert verified == pytest.approx(0.025)


def test_a_figure_over_budget_only_by_the_emulator_is_emulator_bound_and_met(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MITROO_BENCH_STRICT", raising=False)
    # Given a login at 2.2 × verify whose code's part is 1.3 × verify
    result = _login(2.2, 1.3)

    # Then it is emulator-bound, and the report counts it as met, naming it
    assert result.verdict == EMULATOR_BOUND and not result.missed
    assert "only by the time waiting on the emulator: login" in verdict_line([result], passed=True)


def test_a_strict_run_holds_the_whole_figure(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a run against DynamoDB itself
    monkeypatch.setenv("MITROO_BENCH_STRICT", "1")

    # Then the same figure is a miss
    assert _login(2.2, 1.3).missed


@pytest.mark.parametrize(
    ("ratio", "code_ratio", "verdict"),
    [(1.4, 1.2, "OK"), (2.2, 1.6, "OVER BUDGET"), (2.2, None, "OVER BUDGET"), (None, None, "NOT MEASURED")],
)
def test_the_code_s_part_over_budget_is_still_a_miss(
    monkeypatch: pytest.MonkeyPatch, ratio: float | None, code_ratio: float | None, verdict: str
) -> None:
    monkeypatch.delenv("MITROO_BENCH_STRICT", raising=False)
    # Given a login whose code's part alone is over its budget, or with no code's part measured
    result = _login(ratio, code_ratio)  # type: ignore[arg-type]

    # Then the verdict says so, and only "OK" is met
    assert result.verdict == verdict
    assert result.missed is (verdict != "OK")


def test_the_spec_table_fails_on_a_code_bound_miss_and_on_a_budget_not_measured() -> None:
    # Given only a login figure whose code's part misses its budget
    table, passed = spec_table([_login(2.2, 1.6)])

    # Then the table fails, shows the miss, and names every other budget as not measured
    assert not passed
    assert "OVER BUDGET" in table and "NOT MEASURED" in table


def test_the_cold_import_ratio_pairs_each_import_with_the_boto3_import_of_its_round() -> None:
    from bench.cold_import import paired_ratio

    # Given three rounds on a machine that slowed down in the last one, each round's app
    # import 1.5 × its boto3 import but for one noisy round
    apps, boto3s = [0.30, 0.36, 0.66], [0.20, 0.30, 0.44]

    # Then the ratio is the rounds' median ratio, not the ratio of medians from different rounds
    assert paired_ratio(apps, boto3s) == pytest.approx(1.5)
