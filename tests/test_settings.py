"""Settings are declared once, documented in the README, and secrets never shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard import settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.parametrize("setting", settings.SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented_with_its_default(setting):
    row = next((line for line in README.splitlines() if line.startswith(f"| `{setting.name}` |")), None)
    assert row is not None, f"{setting.name} is missing from the README's configuration table"
    assert (f"`{setting.default}`" if setting.default else "unset") in row


def test_readme_has_the_two_setup_commands_first():
    blocks = re.findall(r"<!-- (run|test)-command -->\n```\n(.+?)\n```", README)
    assert [name for name, _ in blocks] == ["run", "test"]
    assert "roi dashboard" in blocks[0][1] and "pytest" in blocks[1][1]


def test_secrets_are_masked(monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", "rk_test_abcdefghijklmnop")
    monkeypatch.setenv("ROI_DATABASE_URL", "postgresql+psycopg://roi:hunter2@db.example:5432/roi")
    assert "abcdefghijklmnop" not in settings.describe("STRIPE_API_KEY")
    assert "hunter2" not in settings.describe("ROI_DATABASE_URL")
    assert "db.example" in settings.describe("ROI_DATABASE_URL")


def test_secrets_file_is_read_after_the_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text('ROI_TIMEZONE = "Europe/Paris"\n')
    monkeypatch.delenv("ROI_TIMEZONE", raising=False)
    assert settings.get("ROI_TIMEZONE") == "Europe/Paris"
    monkeypatch.setenv("ROI_TIMEZONE", "Asia/Tokyo")
    assert settings.get("ROI_TIMEZONE") == "Asia/Tokyo"


def test_unknown_timezone_is_a_plain_error(monkeypatch):
    monkeypatch.setenv("ROI_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ValueError, match="Mars/Olympus"):
        settings.timezone()
