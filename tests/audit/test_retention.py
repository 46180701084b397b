"""Audit retention (issue 16 §5): at least 180 days, configurable upward; the trail is append-only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from config.settings import Settings, SettingsError
from registry.audit import trail as audit
from tests.conftest import ROOT


def test_retention_defaults_to_180_days_and_is_configurable_upward_only():
    assert Settings.from_env({"REGISTRY_SECRET_KEY": "k"}).audit_retention_days == 180
    assert Settings.from_env({"REGISTRY_SECRET_KEY": "k", "REGISTRY_AUDIT_RETENTION_DAYS": "3650"}) \
        .audit_retention_days == 3650
    for bad in ("179", "0", "-1", "半年"):
        with pytest.raises(SettingsError, match="REGISTRY_AUDIT_RETENTION_DAYS"):
            Settings.from_env({"REGISTRY_SECRET_KEY": "k", "REGISTRY_AUDIT_RETENTION_DAYS": bad})


def test_the_cutoff_never_reaches_events_younger_than_the_period():
    now = datetime(2026, 12, 6, 8, tzinfo=UTC)
    assert audit.retention_cutoff(now, 180) == now - timedelta(days=180)
    assert audit.retention_cutoff(now, 400) == now - timedelta(days=400)
    with pytest.raises(audit.RetentionError, match="不得少于 180 天"):
        audit.retention_cutoff(now, 179)
    with pytest.raises(audit.RetentionError):
        audit.retention_cutoff(datetime(2026, 12, 6), 180)


def test_only_the_archive_command_removes_audit_events(tmp_path):
    """The trail is append-only: no CLI command prunes, purges or deletes; the one that removes events is
    `audit archive`, which keeps the retention period, verifies the chain's anchor and the written file first
    (tests/audit/test_archive.py); the database refuses DELETE of anything after the archived base
    (tests/audit/test_chain.py::test_the_database_refuses_update_and_delete)."""
    from registry import create_app

    app = create_app(Settings(env="testing", secret_key="k", database_url=f"sqlite:///{tmp_path / 'x.db'}",
                              policy_dir=ROOT / "config" / "policies"))
    names: list[str] = []

    def walk(group, prefix: str = "") -> None:  # noqa: ANN001
        for name, command in getattr(group, "commands", {}).items():
            names.append(f"{prefix}{name}")
            walk(command, f"{prefix}{name} ")

    walk(app.cli)
    assert any(n.startswith("audit") for n in names), names  # the walk sees the commands (else proves nothing)
    removing = [n for n in names if any(w in n for w in ("prune", "purge", "archive", "delete", "truncate"))]
    assert set(removing) == {"audit archive", "audit verify-archive"}, removing
