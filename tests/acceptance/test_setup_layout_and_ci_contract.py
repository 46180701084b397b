"""Issue 2 (Foundation): the acceptance points that no narrower test proved on its own.

- `make test` with REGISTRY_REQUIRE_PG=1 and no server fails loudly; without a URL it skips PostgreSQL;
- `make run` sets up, serves /api/v1/health beside the scheduler, and Ctrl-C stops both;
- `init-db && seed-demo` builds the demo roster and a second seed-demo changes nothing (every row);
- the demo roster has what the issue lists; the region tree is complete where it must be;
- the deadline examples hold through the calendar as stored in the database;
- a passed review records the policy version in force at the review;
- README states the two commands first; the layout, pins, .gitignore and .ci/run are as SPEC §1–2 say.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from stdnum.cn import uscc as stdnum_uscc

from registry.domain import deadlines
from registry.domain.errors import CalendarDataMissing
from registry.domain.lifecycle import Event, Status
from registry.domain.policy import Period, load_policies
from registry.enterprises.services import record_change_report
from registry.policies.rules import Rules
from registry.regions.models import Region
from registry.titles.services import EventInput, apply_event
from tests.conftest import NOW, PG_PROBLEM, PG_URL, ROOT, d
from tests.factories import grant, make_enterprise

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/test"  # nothing listens on port 1
SMALL_SELECTION = "tests/accounts/test_token_use.py::test_last_used_is_written_once_a_minute"  # one test, both backends
ZJ_CITIES = {"330100", "330200", "330300", "330400", "330500", "330600", "330700", "330800", "330900",
             "331000", "331100"}


def needs_installed_venv() -> None:
    """`make` would run pip if requirements changed since the last install: not inside a test."""
    if subprocess.run(["make", "-q", "install"], cwd=ROOT, capture_output=True).returncode != 0:
        pytest.skip("the .venv install is older than requirements*.txt: run `make install` first")


def make_test(selection: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `make test` on a small selection (PYTEST_ADDOPTS) with the given REGISTRY_* settings."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("REGISTRY_", "PYTEST_"))}
    return subprocess.run(["make", "--no-print-directory", "test"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**base, "PYTEST_ADDOPTS": f"{selection} -p no:cacheprovider -q", **env})


def test_make_test_requiring_postgresql_without_a_server_fails_loudly():
    needs_installed_venv()
    result = make_test(SMALL_SELECTION, REGISTRY_TEST_DATABASE_URL=UNREACHABLE, REGISTRY_REQUIRE_PG="1")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "REGISTRY_REQUIRE_PG=1 but PostgreSQL is unavailable" in output
    assert "127.0.0.1:1" in output and "passed" not in output  # refused before any test ran


def test_make_test_without_a_database_url_runs_sqlite_and_skips_postgresql():
    needs_installed_venv()
    result = make_test(SMALL_SELECTION)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "1 passed, 1 skipped" in output and "REGISTRY_TEST_DATABASE_URL is not set" in output


@pytest.mark.skipif(bool(PG_PROBLEM), reason=f"PostgreSQL tests skipped: {PG_PROBLEM}")
def test_make_test_with_a_reachable_server_runs_both_backends():
    needs_installed_venv()
    result = make_test(SMALL_SELECTION, REGISTRY_TEST_DATABASE_URL=PG_URL, REGISTRY_REQUIRE_PG="1")
    assert result.returncode == 0 and "2 passed" in result.stdout, result.stdout + result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run `flask --app app ARGS` as a user would, in a subprocess."""
    return subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "--app", "app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def cli_env(db: Path, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
    return {**base, "REGISTRY_DATABASE_URL": f"sqlite:///{db}", "REGISTRY_SECRET_KEY": "acceptance", **extra}


def wait_until(predicate, seconds: float = 60.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OSError:
            pass
        time.sleep(0.3)
    return False


def test_make_run_migrates_serves_health_beside_the_scheduler_and_ctrl_c_stops_both(tmp_path):
    needs_installed_venv()
    db = tmp_path / "run.db"
    env = cli_env(db, REGISTRY_PORT=str(free_port()), REGISTRY_SMTP_PORT=str(free_port()))
    # a small roster first, so make run's `seed-demo --if-empty` finds data and leaves it (the 3,000-row
    # default is the subject of the slow test below)
    assert cli(env, "init-db").returncode == 0
    seeded = cli(env, "seed-demo", "--size", "20")
    assert seeded.returncode == 0, seeded.stderr
    log = (tmp_path / "make-run.log").open("w")
    process = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{env['REGISTRY_PORT']}/api/v1/health"
    try:
        def scanned() -> bool:  # the scheduler process ran today's scan at start-up
            with sqlite3.connect(db) as conn:
                return conn.execute("SELECT 1 FROM job_runs WHERE job_name = 'scan' AND status = 'succeeded'"
                                    ).fetchone() is not None
        assert wait_until(lambda: urllib.request.urlopen(url, timeout=2).status == 200), (tmp_path / "make-run.log").read_text()
        assert wait_until(scanned), (tmp_path / "make-run.log").read_text()
        with urllib.request.urlopen(url, timeout=5) as response:
            health = response.read().decode()
        assert '"db"' in health and '"scan"' in health
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in the terminal signals the whole group
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
    text = (tmp_path / "make-run.log").read_text()
    assert "tz_officer" in text and "演示账号" in text  # the demo logins are printed
    assert "跳过演示数据" in text  # --if-empty: a database with data is left as it is
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=2)
    still_running = subprocess.run(["pgrep", "-g", str(process.pid)], capture_output=True, text=True)
    assert still_running.stdout.strip() == "", "a child of make run outlived Ctrl-C"


def dump(db: Path) -> list[str]:
    """Every row of every table, as SQL text: equal dumps mean nothing changed."""
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


@pytest.mark.slow
def test_init_db_and_seed_demo_build_the_default_roster_and_a_rerun_changes_nothing(tmp_path):
    """The acceptance commands exactly as written (default size), on an empty SQLite database."""
    db = tmp_path / "demo.db"
    env = cli_env(db)
    init = cli(env, "init-db")
    assert init.returncode == 0, init.stderr
    first = cli(env, "seed-demo")
    assert first.returncode == 0, first.stderr
    assert "新增企业 3000 家" in first.stdout
    with sqlite3.connect(db) as conn:
        cities = {row[0] for row in conn.execute("SELECT DISTINCT substr(region_code, 1, 4) || '00' FROM enterprises")}
        # the default roster, and the six 椒江 applicants of the pipeline scene (issue 18 point 10)
        assert conn.execute("SELECT COUNT(*) FROM enterprises").fetchone()[0] == 3000 + 6
        usccs = [row[0] for row in conn.execute("SELECT uscc FROM enterprises")]
    assert cities == ZJ_CITIES
    assert all(stdnum_uscc.is_valid(code) for code in usccs)
    before = dump(db)
    second = cli(env, "seed-demo")
    assert second.returncode == 0, second.stderr
    assert "新增企业 0 家" in second.stdout and "新增用户 0 个" in second.stdout
    assert dump(db) == before


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    """A 400-enterprise demo roster as of 2026-11-22, seeded through the CLI."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    env = cli_env(db)
    assert cli(env, "init-db").returncode == 0
    seeded = cli(env, "seed-demo", "--size", "400", "--today", "2026-11-22")
    assert seeded.returncode == 0, seeded.stderr
    return db


def test_seed_demo_rerun_leaves_every_row_as_it_was(demo_db, tmp_path):
    copy = tmp_path / "again.db"
    copy.write_bytes(demo_db.read_bytes())
    before = dump(copy)
    again = cli(cli_env(copy), "seed-demo", "--size", "400", "--today", "2026-11-22")
    assert again.returncode == 0 and "新增企业 0 家" in again.stdout, again.stdout + again.stderr
    assert dump(copy) == before


def test_demo_roster_has_every_tier_status_and_deadline_state(demo_db):
    today = "2026-11-22"
    with sqlite3.connect(demo_db) as conn:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        cities = {row[0] for row in conn.execute("SELECT DISTINCT substr(region_code, 1, 4) || '00' FROM enterprises")}
        usccs = [row[0] for row in conn.execute("SELECT uscc FROM enterprises")]
        tiers = {row[0] for row in conn.execute("SELECT DISTINCT tier FROM certifications")}
        statuses = {row[0] for row in conn.execute("SELECT DISTINCT status FROM certifications")}
        in_window = one(f"SELECT COUNT(*) FROM certifications WHERE status = 'active'"
                        f" AND review_window_opens_on <= '{today}' AND valid_until >= '{today}'")
        overdue = one("SELECT COUNT(*) FROM certifications WHERE review_eligible = 0"
                      " AND review_ineligible_cause = 'annual_update_missed'")
        bans = one(f"SELECT COUNT(*) FROM bans WHERE ends_on >= '{today}'")
        users = {row[0] for row in conn.execute("SELECT username FROM users")}
    assert cities == ZJ_CITIES
    assert usccs and all(stdnum_uscc.is_valid(code) for code in usccs)
    assert {"innovative_sme", "specialized_sme", "little_giant", "single_champion"} <= tiers
    assert statuses == {"active", "under_review", "expired", "revoked", "withdrawn", "superseded"}
    assert in_window > 0 and overdue > 0 and bans > 0
    assert {"admin", "zj_officer", "tz_officer", "hz_officer", "auditor"} <= users


def test_region_tree_holds_every_province_city_and_the_zhejiang_and_sichuan_districts(session):
    def count(level: str, prefix: str = "") -> int:
        return session.scalar(sa.select(sa.func.count()).select_from(Region).where(
            Region.level == level, Region.code.startswith(prefix)))

    assert count("province") == 34
    # 333 prefecture-level divisions + the municipalities' 5 grouping rows + 4 省直辖 grouping rows (issue 17)
    assert count("city") == 342
    assert count("district") == 2846  # every mainland county-level division (issue 17)
    assert (count("city", "33"), count("district", "33")) == (11, 90)  # 浙江
    assert (count("city", "51"), count("district", "51")) == (21, 183)  # 四川
    orphans = session.scalar(sa.select(sa.func.count()).select_from(Region).where(
        Region.level != "province", ~Region.parent_code.in_(sa.select(Region.code))))
    assert orphans == 0
    assert session.get(Region, "331002").name == "椒江区"


def test_deadline_examples_through_the_calendar_stored_in_the_database(session, admin, rules):
    ent = make_enterprise(session, admin)
    leap = grant(session, admin, rules, ent, "innovative_sme", d("2024-02-29"))
    assert leap.valid_until == d("2027-02-28")
    other = make_enterprise(session, admin)
    june = grant(session, admin, rules, other, "innovative_sme", d("2024-06-15"))
    assert june.valid_until == d("2027-06-15")
    report, warnings = record_change_report(session, actor=admin, rules=rules, enterprise_id=ent.id, kind="rename",
                                            occurred_on=d("2026-07-01"), reported_on=None, details="", at=NOW,
                                            today=d("2026-07-01"))  # issue 14: never dated after today
    assert (report.deadline_on, report.deadline_provisional, warnings) == (d("2026-10-08"), False, [])
    assert deadlines.deadline(rules.calendar, d("2026-09-20"), Period(30, "working_days")).on == d("2026-11-06")
    with pytest.raises(CalendarDataMissing) as err:  # no 2027 override rows in this database
        deadlines.strict_deadline(rules.calendar, d("2026-12-10"), Period(30, "working_days"))
    assert err.value.year == 2027 and "2027" in err.value.message


def test_a_passed_review_records_the_policy_version_in_force_at_the_review(session, admin, rules, tmp_path):
    """A new year's notice is a new file: titles granted before keep their version, reviews take the new one
    where its text says so (issue 14: `reviews_titles_of` names the versions whose titles it reviews)."""
    text = (ROOT / "config" / "policies" / "national-2022.toml").read_text(encoding="utf-8")
    newer = (text.replace('code = "national-2022"', 'code = "national-2026"', 1)
             .replace("effective_from = 2022-08-01", "effective_from = 2026-01-01", 1)
             .replace('reviews_titles_of = ["national-2018", "national-2013"]',
                      'reviews_titles_of = ["national-2022", "national-2018", "national-2013"]', 1))
    assert newer.count('"national-2022", "national-2018"') == 1
    directory = tmp_path / "policies"
    directory.mkdir()
    for shipped in (ROOT / "config" / "policies").glob("*.toml"):
        (directory / shipped.name).write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
    (directory / "national-2026.toml").write_text(newer, encoding="utf-8")
    versioned = Rules(policies=load_policies(directory), calendar=rules.calendar)
    ent = make_enterprise(session, admin)
    cert = grant(session, admin, versioned, ent, "innovative_sme", d("2023-06-15"))
    assert cert.policy_code == "national-2022"
    apply_event(session, actor=admin, rules=versioned, certification_id=cert.id, at=NOW,  # issue 14: submit first
                event=EventInput(Event.SUBMIT_REVIEW, d("2026-04-01")))
    apply_event(session, actor=admin, rules=versioned, certification_id=cert.id, at=NOW,
                event=EventInput(Event.PASS_REVIEW, d("2026-05-20"), document_no="复核〔2026〕1号"))
    assert cert.status == Status.ACTIVE
    assert [(t.seq, t.policy_code, t.valid_from) for t in cert.terms] == [
        (1, "national-2022", d("2023-06-15")), (2, "national-2026", d("2026-06-15") + timedelta(days=1))]
    assert cert.policy_code == "national-2026"


def test_readme_states_the_two_commands_first_and_nothing_else():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sections = readme.split("\n## ")
    assert sections[1].startswith("Two commands")
    first = sections[1]
    assert first.index("make run") < first.index("make test")
    assert "Nothing else is needed" in first


def test_layout_pins_gitignore_and_ci_as_the_spec_says():
    for path in ("app.py", "registry", "registry/domain", "migrations", "jobs", "tests", "config",
                 "config/policies", "requirements.txt", "Makefile", "README.md", ".ci/run", "bench"):
        assert (ROOT / path).exists(), path
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
    pins = [line.split("#")[0].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    pins = [line for line in pins if line and not line.startswith("-")]
    assert pins and all("==" in line for line in pins), [p for p in pins if "==" not in p]
    ignored = subprocess.run(["git", "check-ignore", ".venv/x", "instance/registry.db", "registry/__pycache__/x.pyc",
                              ".pytest_cache/x"], cwd=ROOT, capture_output=True, text=True)
    assert len(ignored.stdout.split()) == 4, ignored.stdout
    ci = (ROOT / ".ci" / "run").read_text()
    assert "export REGISTRY_REQUIRE_PG=1" in ci and "REGISTRY_TEST_DATABASE_URL" in ci
    assert ci.rstrip().endswith("make test")
    makefile = (ROOT / "Makefile").read_text()
    run_recipe = makefile.split("\nrun:")[1].split("\n\n")[0]
    assert "init-db" in run_recipe and "seed-demo --if-empty" in run_recipe and "registry.devserver" in run_recipe
    assert sys.version_info[:2] == (3, 11)
