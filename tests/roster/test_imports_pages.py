"""The import pages: upload, the jobs process's executor, polling, the dry-run diff, confirm, errors; export buttons."""

from __future__ import annotations

import io
import time
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from config import Settings
from jobs.imports import Executor, committed_progress
from registry import create_app
from registry.accounts.users import create_user
from registry.domain.actors import Role, system_actor
from registry.enterprises.models import Enterprise
from registry.platform.db import make_engine, utcnow
from registry.platform.migrate import upgrade
from registry.policies.rules import load_rules
from registry.regions.reference import sync_regions
from registry.roster import worker as import_worker
from registry.roster.imports import queue_import
from registry.roster.models import ImportRun
from tests.conftest import NOW, ROOT, backends, d, fresh_database, officer_of
from tests.factories import grant, make_enterprise, make_uscc
from tests.roster.files import read_xlsx, roster_rows, xlsx
from tests.web.fixtures import PASSWORD, csrf_from, login
from tests.web.pages import page, unlabelled

BATCH = "2024年第一批"


def upload(client, content: bytes | None, filename: str = "名单.xlsx", mode: str = "dry_run", **extra):
    """Submit the upload form the way a browser does (multipart, with the page's CSRF token)."""
    data = {"csrf_token": csrf_from(page(client, "/imports")), "mode": mode, "programme": "", **extra}
    if content is not None:
        data["file"] = (io.BytesIO(content), filename)
    return client.post("/imports", data=data, content_type="multipart/form-data")


def confirm(client, run_id: int):
    token = csrf_from(page(client, f"/imports/{run_id}"))
    return client.post(f"/imports/{run_id}/confirm", data={"csrf_token": token})


def run_id_of(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def runs(session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(ImportRun))


@pytest.fixture
def inline(app):
    """Page uploads processed in the request (the threaded path has its own test below)."""
    app.config["IMPORTS_INLINE"] = True
    return app


@pytest.fixture
def officer(inline, login_as):
    return login_as("officer", "331000")


@pytest.fixture
def registered(session, admin, rules):
    """台州: one enterprise the file renames, one of the same batch the file leaves out, one sharing a name."""
    renamed = make_enterprise(session, admin, uscc=make_uscc("331002", 830_001), name="台州旧名有限公司")
    grant(session, admin, rules, renamed, "innovative_sme", d("2024-06-15"), batch=BATCH)
    missing = make_enterprise(session, admin, uscc=make_uscc("331002", 830_002), name="台州缺席有限公司")
    grant(session, admin, rules, missing, "innovative_sme", d("2024-06-15"), batch=BATCH)
    namesake = make_enterprise(session, admin, uscc=make_uscc("331002", 830_003), name="台州同名有限公司")
    session.commit()
    return renamed, missing, namesake


def announcement(renamed: Enterprise) -> bytes:
    rows = roster_rows(2, serial=830_100, batch=BATCH)
    rows[0][1] = "台州同名有限公司"
    return xlsx([[9, "台州新名有限公司", renamed.uscc, "331002", "创新型中小企业", date(2024, 6, 15), BATCH,
                  "浙经信企业〔2024〕88号"], *rows])


def test_the_upload_page_is_labelled_and_for_officers_only(officer, login_as):
    html = page(officer, "/imports")
    assert 'lang="zh-CN"' in html and unlabelled(html) == []
    assert '>导入</a>' in html and 'enctype="multipart/form-data"' in html
    assert '<input checked id="mode-0" name="mode" type="radio" value="dry_run">' in html  # dry run by default
    auditor = login_as("auditor", "330000")
    assert '>导入</a>' not in page(auditor, "/")
    page(auditor, "/imports", status=403)


def test_dry_run_shows_the_diff_then_confirm_applies_the_same_file(officer, registered, session):
    renamed, missing, namesake = registered
    uploaded = announcement(renamed)  # built once: an .xlsx carries its creation time
    dry = run_id_of(upload(officer, uploaded))
    html = page(officer, f"/imports/{dry}")
    assert "试运行结果（尚未写入）" in html and "确认导入" in html
    for kind, total in (("new_enterprises", 2), ("changed", 1), ("new_titles", 2), ("missing", 1),
                        ("name_matches", 1), ("unchanged_rows", 0)):
        assert f'id="total-{kind}">{total}<' in html, kind
    assert "<del>台州旧名有限公司</del>" in html and "<ins>台州新名有限公司</ins>" in html  # old → new
    assert missing.name in html and f"<code>{namesake.uscc}</code>" in html and 'class="flagged"' in html
    assert "文号与登记内容不同" in html  # a warning, shown with its row
    assert session.get(Enterprise, renamed.id).name == "台州旧名有限公司"  # nothing written yet

    applied = run_id_of(confirm(officer, dry))
    assert applied != dry
    html = page(officer, f"/imports/{applied}")
    assert "已导入" in html and "确认导入" not in html and 'id="total-new_enterprises">2<' in html
    session.expire_all()
    assert session.get(Enterprise, renamed.id).name == "台州新名有限公司"
    assert session.scalar(sa.select(ImportRun.content).where(ImportRun.id == applied)) == uploaded
    listing = page(officer, "/imports")
    assert f"#{applied}" in listing and f"#{dry}" in listing and "已导入" in listing
    before = runs(session)
    assert run_id_of(confirm(officer, dry)) == applied  # a second click lands on the same apply run
    assert runs(session) == before


def test_a_bad_file_shows_its_errors_and_the_workbook_downloads(officer, session):
    rows = roster_rows(3, serial=831_000)
    rows[1][4] = "金牌企业"
    before = session.scalar(sa.select(sa.func.count()).select_from(Enterprise))
    run = run_id_of(upload(officer, xlsx(rows), mode="apply"))
    html = page(officer, f"/imports/{run}")
    assert "有错误，未导入" in html and "未导入任何数据" in html
    assert '<td class="num">3</td><td>E列（称号）</td><td>未知的称号' in html
    assert "下载错误清单" in html and "确认导入" not in html
    workbook = officer.get(f"/imports/{run}/errors.xlsx")
    assert workbook.status_code == 200 and "filename*=UTF-8''" in workbook.headers["Content-Disposition"]
    sheet = read_xlsx(workbook.data)
    assert sheet[0][-1] == "错误说明" and sheet[2][-1].startswith("第3行 E列（称号）")
    assert session.scalar(sa.select(sa.func.count()).select_from(Enterprise)) == before
    assert confirm(officer, run).status_code == 409  # only a validated dry run can be confirmed


@pytest.mark.parametrize("content, says", [(None, "请选择要导入的名单文件"), (b"", "文件为空")])
def test_an_upload_without_a_file_names_the_field(officer, session, content, says):
    before = runs(session)
    response = upload(officer, content)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and says in html and 'href="#file">名单文件' in html
    assert 'aria-invalid="true"' in html and runs(session) == before


def test_posts_without_a_csrf_token_are_refused(officer, registered, session):
    dry = run_id_of(upload(officer, announcement(registered[0])))
    before = runs(session)
    refused = officer.post("/imports", data={"mode": "apply", "file": (io.BytesIO(b"a,b\n1,2\n"), "x.csv")},
                           content_type="multipart/form-data")
    assert refused.status_code == 400
    assert officer.post(f"/imports/{dry}/confirm").status_code == 400
    assert runs(session) == before


def test_imports_of_another_region_are_404(inline, login_as):
    hangzhou = login_as("officer", "330100")
    bad = roster_rows(1, region="330106", serial=832_000)
    bad[0][4] = "金牌企业"
    run = run_id_of(upload(hangzhou, xlsx(bad)))
    taizhou = login_as("officer", "331000")
    for url in (f"/imports/{run}", f"/imports/{run}/errors.xlsx"):
        page(taizhou, url, status=404)
    assert f"#{run}" not in page(taizhou, "/imports")
    token = csrf_from(page(taizhou, "/imports"))
    assert taizhou.post(f"/imports/{run}/confirm", data={"csrf_token": token}).status_code == 404
    assert f"#{run}" in page(login_as("officer", "330000"), "/imports")


def test_a_queued_run_page_polls_and_refreshes_without_js(officer, session, rules):
    run = queue_import(session, actor=officer_of("331000"), rules=rules, filename="名单.csv", content=b"x",
                       mode="dry_run", at=NOW)
    session.commit()
    html = page(officer, f"/imports/{run.id}")
    assert "排队中" in html and "处理中" in html and "<progress>" in html  # indeterminate
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in html
    assert f'data-poll-url="/api/v1/imports/{run.id}"' in html and "import-poll.js" in html
    script = officer.get("/assets/import-poll.js")
    assert script.status_code == 200 and b"window.location.reload()" in script.data


def test_the_worker_marks_a_run_failed_when_processing_raises_and_runs_it_once(inline, session, rules):
    content = xlsx(roster_rows(2, serial=833_000))
    run = queue_import(session, actor=officer_of("331000"), rules=rules, filename="名单.xlsx", content=content,
                       mode="apply", at=NOW)
    session.commit()
    before = session.scalar(sa.select(sa.func.count()).select_from(Enterprise))
    # The uploader lost the import right before the worker got to it: process_import refuses.
    import_worker.process(inline, run.id, officer_of("331000", role=Role.AUDITOR), date(2026, 6, 1))
    session.expire_all()
    failed = session.get(ImportRun, run.id)
    assert failed.status == "failed" and failed.finished_at is not None
    assert "未导入任何数据" in failed.errors[0]["message"] and "PermissionDenied" in failed.errors[0]["message"]
    assert session.scalar(sa.select(sa.func.count()).select_from(Enterprise)) == before
    import_worker.process(inline, run.id, officer_of("331000"), date(2026, 6, 1))
    session.expire_all()
    assert session.get(ImportRun, run.id).status == "failed"  # not queued any more: not processed again


def test_the_roster_page_exports_with_the_current_filters(officer):
    html = page(officer, "/enterprises?tier=innovative_sme&status=active")
    for url, label in (("/api/v1/exports/roster.xlsx?", "导出 Excel"), ("/api/v1/exports/roster.csv?", "导出 CSV")):
        start = html.index(url)
        link = html[start:html.index("</a>", start)]
        assert "tier=innovative_sme" in link and "status=active" in link and link.endswith(label)


# --------------------------------------------------- the real background executor (the jobs process's)

@pytest.fixture(params=backends())
def threaded_app(request, tmp_path):
    """The app as deployed (its own sessionmaker, IMPORTS_INLINE off) on a fresh database of its own, with the
    jobs process's import executor serving in a thread beside it (as `jobs run` does in its own process).

    Not the shared SAVEPOINT session: the executor must open its own sessions and commit, and on
    SQLite the test session's open transaction would hold the write lock the executor waits for.
    """
    url, pg = fresh_database(request.param, tmp_path)
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        sync_regions(session)
        create_user(session, actor=system_actor("cli", "tests"), username="officer-331000", role="officer",
                    region_code="331000", email="o@gov.example.cn", password=PASSWORD, at=utcnow())  # the live app's now (password age)
        session.commit()
    engine.dispose()
    app = create_app(Settings(env="testing", database_url=url, secret_key="t", policy_dir=ROOT / "config" / "policies"))
    app.config["TESTING"] = True
    executor = Executor(app.extensions["registry.sessionmaker"], app.extensions["registry.policies"], clock=utcnow,
                        today=lambda: date(2026, 6, 1), heartbeat_minutes=5, poll=0.1)
    executor.start()
    yield app
    executor.stop(60)
    app.extensions["registry.engine"].dispose()
    if pg is not None:
        pg.drop()


def wait_until_done(client, run_id: int, timeout: float = 60) -> dict:
    """Poll the API as the page's script does, until the run has left queued/running."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = client.get(f"/api/v1/imports/{run_id}").get_json()
        if run["status"] not in ("queued", "running"):
            return run
        time.sleep(0.2)
    raise AssertionError(f"import {run_id} still {run['status']} after {timeout}s")


def test_a_page_upload_runs_in_the_jobs_executor_and_the_page_polls_until_done(threaded_app):
    assert not threaded_app.config["IMPORTS_INLINE"]
    client = threaded_app.test_client()
    assert login(client, "officer-331000").status_code == 302
    rows = roster_rows(30, serial=834_000)
    dry = run_id_of(upload(client, xlsx(rows)))
    done = wait_until_done(client, dry)
    assert done["status"] == "validated" and done["counts"]["new_enterprises"] == 30
    assert done["progress"] == {"processed_rows": 30, "total_rows": 30}
    assert 'id="total-new_enterprises">30<' in page(client, f"/imports/{dry}")

    applied = run_id_of(confirm(client, dry))
    assert wait_until_done(client, applied)["status"] == "applied"
    assert "已导入" in page(client, f"/imports/{applied}")
    with threaded_app.extensions["registry.sessionmaker"]() as session:
        usccs = [r[2] for r in rows]
        assert session.scalar(sa.select(sa.func.count()).select_from(Enterprise)
                              .where(Enterprise.uscc.in_(usccs))) == 30


def test_progress_is_committed_from_a_session_of_its_own(threaded_app):
    sessions = threaded_app.extensions["registry.sessionmaker"]
    with sessions() as session:
        rules = load_rules(session, threaded_app.extensions["registry.policies"])
        run = queue_import(session, actor=officer_of("331000"), rules=rules, filename="名单.csv", content=b"x",
                           mode="dry_run", at=NOW)
        session.commit()
        run_id = run.id
    committed_progress(sessions, run_id)(1000, 2500)
    with sessions() as reader:
        assert reader.execute(sa.select(ImportRun.processed_rows, ImportRun.total_rows)
                              .where(ImportRun.id == run_id)).one() == (1000, 2500)


def test_a_poll_sees_committed_progress_while_the_import_is_still_open_on_postgresql(threaded_app):
    engine = threaded_app.extensions["registry.engine"]
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite holds one write lock per transaction: progress is not committed there (处理中)")
    client = threaded_app.test_client()
    assert login(client, "officer-331000").status_code == 302
    with engine.connect() as blocker:  # reads go on, the import's first INSERT waits for us
        blocker.execute(sa.text("LOCK TABLE enterprises IN EXCLUSIVE MODE"))
        run = run_id_of(upload(client, xlsx(roster_rows(1001, serial=835_000)), mode="apply"))
        deadline = time.monotonic() + 60
        seen = client.get(f"/api/v1/imports/{run}").get_json()
        while seen["progress"]["processed_rows"] < 1001 and time.monotonic() < deadline:
            time.sleep(0.1)
            seen = client.get(f"/api/v1/imports/{run}").get_json()
        assert seen["status"] == "running" and seen["progress"] == {"processed_rows": 1001, "total_rows": 1001}
        assert "已检查 1001 / 1001 行" in page(client, f"/imports/{run}")
        blocker.rollback()
    assert wait_until_done(client, run)["status"] == "applied"
