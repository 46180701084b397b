"""Local fake DingTalk, WeCom and 浙政钉 servers (threads on 127.0.0.1) that check signatures, and channel targets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy.orm import Session, sessionmaker

from config.channels import ChannelSettings
from registry.channels.models import ChannelKind, ChannelTarget
from tests.conftest import NOW

ROBOT_TOKEN, ROBOT_SECRET = "dt-token-0001", "SECabcdef0123456789"
WECOM_KEY = "wecom-key-0001"
ZZD_KEY, ZZD_SECRET, ZZD_TENANT = "zzd-app", "zzd-secret-0001", "196729"


class Fake:
    """What the fake platforms received and how they answer."""

    def __init__(self) -> None:
        self.robots = {ROBOT_TOKEN: ROBOT_SECRET}  #: DingTalk access_token → signing secret
        self.wecom_keys = {WECOM_KEY}
        self.dingtalk: list[dict] = []  #: accepted DingTalk messages (the JSON bodies)
        self.wecom: list[dict] = []
        self.zzd: list[dict] = []  #: accepted work notices (the form parameters)
        self.refused: list[str] = []  #: why each refused call was refused
        self.replies: list[dict] = []  #: scripted answers, consumed one per message call before the checks
        self.tokens_issued = 0
        self.lock = threading.Lock()


def _json(handler: BaseHTTPRequestHandler, status: int, body: dict) -> None:
    raw = json.dumps(body, ensure_ascii=False).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json; charset=utf-8")
    handler.send_header("Content-Length", str(len(raw)))
    handler.end_headers()
    handler.wfile.write(raw)


def zzd_expected(method: str, headers, uri: str, params: dict[str, str]) -> str:  # noqa: ANN001
    lines = [method, headers["X-Hmac-Auth-Timestamp"], headers["X-Hmac-Auth-Nonce"], uri]
    if params:
        lines.append("&".join(f"{k}={params[k]}" for k in sorted(params)))
    return base64.b64encode(hmac.new(ZZD_SECRET.encode(), "\n".join(lines).encode(), hashlib.sha256).digest()).decode()


def make_handler(fake: Fake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

        def _scripted(self) -> bool:
            with fake.lock:
                reply = fake.replies.pop(0) if fake.replies else None
            if reply is not None:
                _json(self, reply.pop("_status", 200), reply)
            return reply is not None

        def do_GET(self) -> None:  # noqa: N802
            url = urllib.parse.urlsplit(self.path)
            params = dict(urllib.parse.parse_qsl(url.query))
            if url.path != "/zzd/gettoken.json":
                return _json(self, 404, {"success": False})
            if (self.headers.get("apiKey") != ZZD_KEY
                    or self.headers.get("X-Hmac-Auth-Signature") != zzd_expected("GET", self.headers, "/gettoken.json",
                                                                                 params)):
                fake.refused.append("zzd gettoken signature")
                return _json(self, 200, {"success": False, "errorMsg": "签名错误"})
            fake.tokens_issued += 1
            return _json(self, 200, {"success": True, "content": {"success": True, "data": {
                "accessToken": f"zzd-access-{fake.tokens_issued}", "expiresIn": 7200}}})

        def do_POST(self) -> None:  # noqa: N802
            url = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self._scripted():
                return None
            if url.path == "/robot/send":
                secret = fake.robots.get(query.get("access_token", ""))
                if secret is None:
                    return _json(self, 200, {"errcode": 300001, "errmsg": "token is not exist"})
                want = base64.b64encode(hmac.new(secret.encode(), f"{query.get('timestamp')}\n{secret}".encode(),
                                                 hashlib.sha256).digest()).decode()
                if query.get("sign") != want:
                    fake.refused.append("dingtalk sign")
                    return _json(self, 200, {"errcode": 310000, "errmsg": "sign not match"})
                fake.dingtalk.append(json.loads(raw))
                return _json(self, 200, {"errcode": 0, "errmsg": "ok"})
            if url.path == "/cgi-bin/webhook/send":
                if query.get("key") not in fake.wecom_keys:
                    return _json(self, 200, {"errcode": 93000, "errmsg": "invalid webhook url"})
                fake.wecom.append(json.loads(raw))
                return _json(self, 200, {"errcode": 0, "errmsg": "ok"})
            if url.path == "/zzd/message/workNotification":
                params = dict(urllib.parse.parse_qsl(raw.decode()))
                if (self.headers.get("X-Hmac-Auth-Signature")
                        != zzd_expected("POST", self.headers, "/message/workNotification", params)):
                    fake.refused.append("zzd notice signature")
                    return _json(self, 200, {"success": False, "errorMsg": "签名错误"})
                if not params.get("access_token", "").startswith("zzd-access-"):
                    return _json(self, 200, {"success": False, "errorMsg": "token 无效"})
                if any(n["bizMsgId"] == params["bizMsgId"] for n in fake.zzd):
                    return _json(self, 200, {"success": True, "content": {
                        "success": False, "responseMessage": "bizMsgId 重复"}})
                fake.zzd.append(params)
                return _json(self, 200, {"success": True, "content": {"success": True, "data": {"msgId": "1"}}})
            return _json(self, 404, {"errcode": 404})

    return Handler


@pytest.fixture
def fake() -> Iterator[Fake]:
    """The fake platforms, running."""
    found = Fake()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(found))
    found.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def channel_settings(fake: Fake) -> ChannelSettings:
    """Channel settings pointing at the fake platforms."""
    base = f"http://127.0.0.1:{fake.port}"
    return ChannelSettings(dingtalk_url=f"{base}/robot/send", wecom_url=f"{base}/cgi-bin/webhook/send",
                           zzd_base_url=f"{base}/zzd", zzd_app_key=ZZD_KEY, zzd_app_secret=ZZD_SECRET,
                           zzd_tenant_id=ZZD_TENANT, timeout=5.0)


@pytest.fixture
def sessions(session: Session) -> sessionmaker[Session]:
    """A session factory on the test's connection: each unit of work is a SAVEPOINT."""
    return sessionmaker(bind=session.bind, join_transaction_mode="create_savepoint", expire_on_commit=False)


def add_target(session: Session, kind: ChannelKind, *, address: str, secret: str | None = None,
               user_id: int | None = None, region_code: str | None = None, label: str = "测试群") -> ChannelTarget:
    """A channel target written directly (the services are tested on their own)."""
    target = ChannelTarget(kind=kind, address=address, secret=secret, user_id=user_id,
                           region_code=region_code if user_id is None else None, label=label,
                           created_at=NOW, updated_at=NOW)
    session.add(target)
    session.flush()
    return target
