"""Issue 18 in a real browser, walked as a newcomer would: the app started as `make run` starts it (the
session's `server`), each demo role signed in (district, city and province officer, a business admin, an
inspector, and the three administrators of 三员分立, who enrol a second factor first), every page of the navigation visited at 1280 px and at 390 px, and the links on those pages
followed one level deep (GET only; logout and downloads skipped). It fails on:

- a 5xx answer to any request a page makes, and a followed link answering 404 or 5xx;
- English words or identifiers in the visible text (a linked page's closed 详情 included), beyond an
  allow-list (USCC, PDF, CSV, Excel, API …; e-mail addresses, login names and other data);
- raw codes (policy ids like national-2022, snake_case enum or reason codes, dotted audit actions, raw JSON
  objects, user ids) on the navigation pages and on the pages their links lead to;
- a page wider than a 390 px screen (it would scroll sideways).

One browser for the whole walk; each page is fetched once (the phone width lays the same page out again);
the crawl is bounded (one link of each URL shape per role, at most CRAWL_PER_ROLE links), so the walk
stays under a minute and a half.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from registry.cli.demo import USERS
from tests.e2e.conftest import login, server_now
from tests.web.test_plain_chinese import codes_in, visible_text

pytestmark = pytest.mark.browser

ROLES = {"jj_officer": "区县业务人员", "tz_officer": "市级业务人员", "zj_officer": "省级业务人员",
         "tz_admin": "业务管理员", "auditor": "审计检查人员",
         # 三员: each enrols a second factor at the first login (the code computed as the phone would)
         "sysadmin": "系统管理员", "secadmin": "安全管理员", "auditadmin": "审计管理员"}
WIDE, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}
CRAWL_PER_ROLE = 45
#: English a person may read on these pages: file formats, encodings and standard abbreviations; and the words
#: the robots' own settings pages use (钉钉's "Webhook", a secret "SEC…", 浙政钉's "accountId"), which an
#: official must find there (compared case-insensitively)
ALLOWED_WORDS = {w.lower() for w in ("USCC", "PDF", "CSV", "xlsx", "Excel", "UTF-8", "GB18030", "API", "IP", "TOTP",
                                     "Webhook", "SEC", "accountId", "ID")}
#: links that end a session or download a file
SKIP = re.compile(r"logout|/export|download|\.(csv|xlsx|pdf|zip)\b|/record\.pdf|/results\.pdf|/errors\.xlsx", re.I)
USCC = re.compile(r"\b[0-9A-HJ-NP-RTUWXY]{2}\d{6}[0-9A-HJ-NP-RTUWXY]{10}\b")
EMAIL = re.compile(r"[\w*•.+-]+@[\w-]+(?:\.[\w-]+)+")  # masked ones too (c***@demo-enterprise.cn, j•••@demo.gov.cn)
LOGINS = re.compile("|".join(sorted((re.escape(u[0]) for u in USERS), key=len, reverse=True)))
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]*")
#: who acted, stored as "kind:name": a person reads the name (labels.event_actor), never the key
ACTOR_KEY = re.compile(r"\b(user|job|cli|token|api):[\w.@-]+")
#: data, not words: the server account a command ran under, a second factor's secret written out for typing,
#: an industry code beside its name (化学纤维制造业（C28）), the standard's number, an audit report's
#: verification code (ZJ2024000101), a request id in the trail's 详情, the visible end of a masked robot address
DATA = re.compile(r"服务器账户 [\w.-]+|(?:[A-Z2-7]{4} ){3,}[A-Z2-7]{1,4}|（[A-T]\d{0,4}）|GB/T \d+|\b[A-Z]{2}\d{8,}\b"
                  r"|\b[0-9a-f]{16}\b|•+\w+")


def english_in(text: str) -> list[str]:
    """English words or identifiers a person would read, beyond the allow-list (with some context)."""
    text = DATA.sub("", LOGINS.sub("", EMAIL.sub("", USCC.sub("", text))))
    return [text[max(0, m.start() - 20):m.end() + 20].replace("\n", " ") for m in WORD.finditer(text)
            if m.group().rstrip(".-").lower() not in ALLOWED_WORDS]


def raw_codes(text: str) -> list[str]:
    """Codes a person should never read (tests/web/test_plain_chinese.py's shapes, and stored actor keys)."""
    keys = [f"actor key: …{text[max(0, m.start() - 20):m.end() + 20]}…" for m in ACTOR_KEY.finditer(text)]
    return [f"{name}: …{hit}…" for name, hit in codes_in(LOGINS.sub("", EMAIL.sub("", text)))] + keys


def shape(url: str) -> str:
    """A URL's shape: numbers and query values blanked (one link per shape is followed)."""
    parts = urlsplit(url)
    query = "&".join(sorted(p.split("=", 1)[0] for p in parts.query.split("&") if p))
    return re.sub(r"\d+", "N", parts.path) + ("?" + query if query else "")


def sign_in(page, server: str, username: str) -> None:  # noqa: ANN001
    """Log in through the form; an administrator enrols the second factor as a newcomer would, from the
    secret written out on the page, and confirms having kept the recovery codes."""
    import pyotp

    login(page, username)
    page.wait_for_load_state()
    if page.url.endswith("/login/second-factor/enrol"):
        secret = page.locator("main li strong").inner_text().replace(" ", "")
        page.get_by_label("应用显示的 6 位数字").fill(pyotp.TOTP(secret).at(server_now(server)))
        page.get_by_role("button", name="完成绑定").click()
        page.get_by_role("link", name="我已保存，继续").click()
    page.get_by_role("navigation", name="主导航").wait_for()  # signed in: the menu is there (an administrator's
    # home is not the dashboard)


def sideways(page) -> int:  # noqa: ANN001
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def walk(browser, server: str, username: str, problems: list[str]) -> int:  # noqa: ANN001
    """Walk the app as `username`; add what is wrong to `problems`; return how many pages were read."""
    context = browser.new_context(base_url=server, locale="zh-CN", viewport=WIDE)
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        errors: list[str] = []
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
        sign_in(page, server, username)
        nav = page.locator("header.top nav a, header.top .who a").evaluate_all("els => els.map(e => e.href)")
        assert len(nav) >= 3, (username, nav)  # at least the trail or the accounts, and the two account pages
        links: dict[str, tuple[str, str]] = {}  # shape → (url, found on)
        for url in nav:
            response = page.goto(url)
            where = f"{username} {urlsplit(url).path}"
            if response is None or response.status >= 400:
                problems.append(f"{where}: HTTP {response.status if response else '—'}")
                continue
            problems += [f"{where}: English: …{hit}…" for hit in english_in(page.evaluate("document.body.innerText"))[:5]]
            problems += [f"{where}: {hit}" for hit in raw_codes(visible_text(page.content()))[:5]]  # closed 详情 too
            for href in page.locator("main a[href]").evaluate_all("els => els.map(e => e.href)"):
                if href.startswith(server) and not SKIP.search(href) and "#" not in href:
                    links.setdefault(shape(href), (href, urlsplit(url).path))
            page.set_viewport_size(PHONE)  # the same page on a phone: laid out again, not fetched again
            if (extra := sideways(page)) > 0:
                problems.append(f"{where} @390px: {extra} px wider than the screen")
            page.set_viewport_size(WIDE)
        followed = list(links.values())[:CRAWL_PER_ROLE]
        for url, found_on in followed:
            response = context.request.get(url, fail_on_status_code=False, max_redirects=3)
            where = f"{username} {found_on} → {urlsplit(url).path}{'?' + urlsplit(url).query if urlsplit(url).query else ''}"
            if response.status == 404 or response.status >= 500:
                problems.append(f"{where}: HTTP {response.status}")
            elif "text/html" in response.headers.get("content-type", ""):
                text = visible_text(response.text())  # closed 详情 included
                problems += [f"{where}: English: …{hit}…" for hit in english_in(text)[:5]]
                problems += [f"{where}: {hit}" for hit in raw_codes(text)[:5]]
        problems += [f"{username}: a request answered {e}" for e in errors]
        return len(nav) + len(followed)
    finally:
        context.close()


def test_the_walk_would_see_what_it_looks_for():
    """The checks themselves catch the shapes issue 18 found (a check that cannot fail proves nothing)."""
    assert english_in("状态：active；每日扫描 scan") and not english_in("导出 CSV、Excel 或 PDF（统一社会信用代码 USCC）")
    assert english_in("政策 national-2022") and not english_in("企业 91331002MA0900001T，tz_officer@demo.gov.cn")
    assert not english_in("已开启：提醒也发到您的邮箱（j•••@demo.gov.cn）。")
    for bad in ("national-2022", "原因：annual_update_missed", "称号 innovative_sme", 'counts {"new": 3}',
                "import.applied", "其他信息 user:tz_officer", "责任人员 → 4", "cli:seed-demo@root"):
        assert raw_codes(bad), bad
    assert not raw_codes("台州市经信局业务人员（tz_officer） 2026-12-06 10:00 渝经信发〔2026〕8号")
    assert shape("http://x/enterprises/12?page=3&q=a") == shape("http://x/enterprises/7?q=b&page=1")


def test_a_newcomer_walks_every_page_as_each_role(browser, server):
    problems: list[str] = []
    reached = {username: walk(browser, server, username, problems) for username in ROLES}
    assert sum(reached.values()) >= 100, f"the walk did not get around: {reached}"
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:150])
