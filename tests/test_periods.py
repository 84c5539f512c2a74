"""Periods and day cuts: bounds in ROI_TIMEZONE, including days that do not start at 00:00."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from dashboard.cli import main
from dashboard.periods import resolve
from queries.fx import dated_days

SANTIAGO = ZoneInfo("America/Santiago")  # clocks jump from 00:00 to 01:00 on 2026-09-06


def test_a_day_whose_midnight_does_not_exist_still_belongs_to_its_own_period():
    period = resolve("2026-09-06", "2026-09-07", SANTIAGO)
    assert period.start == datetime(2026, 9, 6, 4, tzinfo=timezone.utc)  # 01:00 local, -03:00
    assert dated_days(period, SANTIAGO) == (date(2026, 9, 6), date(2026, 9, 7))


def test_cost_dated_on_that_day_is_counted_in_that_day(roi_env, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("ROI_TIMEZONE", "America/Santiago")
    costs = tmp_path / "costs.csv"
    costs.write_text("date,category,channel,amount,currency\n2026-09-06,other,,100.00,usd\n")
    assert main(["import", "costs", str(costs), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["kpis", "--from", "2026-09-06", "--to", "2026-09-07", "--json"]) == 0
    import json

    figures = json.loads(capsys.readouterr().out)
    assert figures["other_costs"] == 10000
    assert figures["previous"]["other_costs"] == 0


@pytest.mark.parametrize("args", [
    ["--from", "0001-01-01", "--to", "2026-01-01"],
    ["--from", "0001-01-02", "--to", "0001-02-01"],
    ["--to", "0001-01-05"],
    ["--from", "2026-13-01"],
    ["--from", "2026-02-01", "--to", "2026-01-01"],
])
def test_impossible_periods_are_usage_errors(store, roi_env, capsys, args):
    assert main(["kpis", *args, "--json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("roi: ") and "Traceback" not in err


@pytest.mark.parametrize("url", ["postgresql+nodriver://u:pw@h/db", "sqlite:////proc/nope/store.sqlite"])
def test_an_unusable_database_url_is_a_plain_message_without_password(url, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("ROI_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    assert main(["kpis", "--json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("roi: cannot open the store") and "pw" not in err
