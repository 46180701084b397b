"""Print pages and their PDFs (issue 18 point 7).

Each document is one HTML page made for paper (A4, the office's heading, 文号 and date) and the same
page as a PDF rendered on the server by WeasyPrint with the CJK fonts the project installs
(fonts-noto-cjk): an enterprise record, a batch's 公示名单 while or after it is publicised, and a
finalised batch's results (认定名单). The PDFs are downloads and are audited like every export; the
enterprise record leaves the contact person out (personal information is not printed).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import abort, render_template, url_for

from registry.accounts.access import current_actor, requires
from registry.domain.actors import Action
from registry.enterprises.models import SIZE_NAMES, Enterprise
from registry.enterprises.services import get_enterprise
from registry.pipeline.common import get_batch
from registry.pipeline.models import Application, ApplicationStatus, Batch, BatchStatus
from registry.platform.extensions import get_session
from registry.titles.models import Ban, Certification
from registry.web.downloads import Audited, spooled_download
from registry.web.pages import bp
from registry.web.pages.flow import today

PDF = "application/pdf"


@bp.app_template_global("print_css")
def print_css() -> str:
    """The print stylesheet's text, inlined into PDFs (WeasyPrint renders without fetching from the server)."""
    return (Path(bp.static_folder or "") / "print.css").read_text(encoding="utf-8")


def cn_day(day: date | None) -> str:
    """2026年6月15日 (empty for no date)."""
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def render_pdf(html: str) -> bytes:
    """Render a print page to PDF (WeasyPrint; the stylesheet is inline, the fonts are the system's)."""
    import weasyprint  # imported here: only the PDF routes need it

    return weasyprint.HTML(string=html, base_url=url_for("pages.dashboard", _external=True)).write_pdf()


def pdf_download(html: str, *, name: str, fallback: str, action: str, entity_type: str, entity_id: int,
                 rows: int) -> Any:
    """Send `html` as a PDF download, audited as `action` on the entity (who, what, how many rows)."""
    pdf = render_pdf(html)

    def produce(_session: Any, out: Any) -> int:
        out.write(pdf)
        return rows

    actor = current_actor()
    return spooled_download(produce, region_code=actor.region_code, name=name, fallback=fallback, mimetype=PDF,
                            audited=Audited(actor, action, entity_type, entity_id))


def enterprise_html(enterprise_id: int, *, for_pdf: bool = False) -> tuple[str, Enterprise]:
    session = get_session()
    enterprise = get_enterprise(session, current_actor(), enterprise_id)
    bans = session.scalars(sa.select(Ban).where(Ban.uscc == enterprise.uscc).order_by(Ban.starts_on)).all()
    titles = sorted(enterprise.certifications, key=lambda c: (c.recognized_on, c.id))
    html = render_template("print_enterprise.html", e=enterprise, titles=titles, bans=bans, today=today(),
                           cn_day=cn_day, size_names=SIZE_NAMES, for_pdf=for_pdf)
    return html, enterprise


@bp.get("/enterprises/<int:enterprise_id>/print")
@requires(Action.READ)
def print_enterprise(enterprise_id: int):
    """The enterprise record as a page for paper (the browser's 打印)."""
    return enterprise_html(enterprise_id)[0]


@bp.get("/enterprises/<int:enterprise_id>/record.pdf")
@requires(Action.READ)
def enterprise_pdf(enterprise_id: int):
    """The enterprise record as a PDF."""
    html, enterprise = enterprise_html(enterprise_id, for_pdf=True)
    return pdf_download(html, name=f"企业档案_{enterprise.name}_{today().isoformat()}.pdf",
                        fallback=f"enterprise-{enterprise.id}.pdf", action="export.enterprise_record",
                        entity_type="enterprise", entity_id=enterprise.id, rows=1)


LISTS: dict[str, tuple[str, Callable[[Batch], bool], tuple[ApplicationStatus, ...]]] = {
    # kind: (heading, when it can be printed, which applications are on it)
    "publicity": ("公示名单", lambda b: b.status in (BatchStatus.PUBLICITY, BatchStatus.FINALISED),
                  (ApplicationStatus.RECOMMENDED, ApplicationStatus.GRANTED, ApplicationStatus.NOT_GRANTED)),
    "results": ("认定名单", lambda b: b.status == BatchStatus.FINALISED, (ApplicationStatus.GRANTED,)),
}


def list_html(batch_id: int, kind: str, *, for_pdf: bool = False) -> tuple[str, Batch, int]:
    if kind not in LISTS:
        abort(404)
    heading, printable, statuses = LISTS[kind]
    session, actor = get_session(), current_actor()
    batch = get_batch(session, actor, batch_id)
    if not printable(batch):
        return render_template("error.html", code=409, title="尚不能打印", message=(
            "该批次尚未公示，没有公示名单。" if kind == "publicity" else "该批次尚未办结，没有认定名单。"),
            back=url_for("pages.batch", batch_id=batch.id)), batch, -1
    rows = session.execute(sa.select(Application, Enterprise).join(
        Enterprise, Enterprise.id == Application.enterprise_id).where(
        Application.batch_id == batch.id, Application.status.in_(statuses)).order_by(
        Application.region_code, Enterprise.name, Application.id)).all()
    tier = next((t.name for p in _policies() for t in p.tiers if t.code == batch.tier), batch.tier)
    titles = {}
    if kind == "results":
        ids = [a.certification_id for a, _ in rows if a.certification_id]
        titles = {c.id: c for c in session.scalars(sa.select(Certification).where(Certification.id.in_(ids)))}
    html = render_template("print_list.html", heading=heading, kind=kind, batch=batch, tier=tier, rows=rows,
                           titles=titles, today=today(), cn_day=cn_day, for_pdf=for_pdf)
    return html, batch, len(rows)


def _policies():  # noqa: ANN202
    from registry.platform.extensions import policies

    return policies().policies


@bp.get("/batches/<int:batch_id>/<kind>/print")
@requires(Action.READ)
def print_list(batch_id: int, kind: str):
    """A batch's 公示名单 (kind publicity) or 认定名单 (kind results) as a page for paper."""
    html, _batch, rows = list_html(batch_id, kind)
    return (html, 409) if rows < 0 else html


@bp.get("/batches/<int:batch_id>/<kind>.pdf")
@requires(Action.READ)
def list_pdf(batch_id: int, kind: str):
    """The same list as a PDF."""
    html, batch, rows = list_html(batch_id, kind, for_pdf=True)
    if rows < 0:
        return html, 409
    heading = LISTS[kind][0]
    return pdf_download(html, name=f"{batch.year}年{batch.name}{heading}.pdf", fallback=f"batch-{batch.id}-{kind}.pdf",
                        action=f"export.{kind}_list", entity_type="batch", entity_id=batch.id, rows=rows)
