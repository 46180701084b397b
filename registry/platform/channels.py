"""The only module that talks to the chat channels: DingTalk custom robots, WeCom group robots, 浙政钉 work notices.

Each `send_*` posts one message over HTTPS (stdlib `urllib`, an explicit timeout) and raises a classified
`ChannelError` when it did not arrive, so the delivery ledger (registry/channels/ledger.py) decides
between retrying and giving up, as `registry.platform.mail` does for SMTP:

- **DingTalk custom robot** (钉钉自定义机器人, "加签" security): POST JSON to
  `<dingtalk_url>?access_token=…&timestamp=…&sign=…`, where `timestamp` is the current time in
  milliseconds and `sign` is Base64(HMAC-SHA256(key = secret, message = "{timestamp}\\n{secret}")),
  URL-encoded. The answer is `{"errcode": 0, "errmsg": "ok"}`; any other errcode is a failure
  (310000: signature, keyword or IP check failed; 130101/410100: sending too fast; 300001: no such token).
- **WeCom group robot** (企业微信/政务微信群机器人): POST JSON to `<wecom_url>?key=…`; errcode 0 is delivery,
  45009 too fast, 93000 the webhook key is invalid (permanent).
- **浙政钉 work notice** (工作通知, 专有钉钉 open platform): every gateway call carries the headers
  `X-Hmac-Auth-Timestamp`, `X-Hmac-Auth-Version` (1.0), `X-Hmac-Auth-Nonce`, `apiKey` and
  `X-Hmac-Auth-Signature` = Base64(HMAC-SHA256(app secret, "METHOD\\ntimestamp\\nnonce\\nURI\\nk=v&…"))
  (parameters sorted by name). `GET /gettoken.json?appkey=…&appsecret=…` gives an access token;
  `POST /message/workNotification` (form: access_token, tenantId, receiverIds or organizationCodes,
  bizMsgId, msg) sends. `bizMsgId` deduplicates on the platform's side: a second call with the same id
  is answered "重复" — already delivered, so it counts as delivered here (`Delivery.duplicate`).
  The gateway's full specification is not public; this adapter follows the published SDKs' form and
  every address is configurable (docs/channels.md).

Transient: no connection, a timeout, HTTP 5xx or 429, an unreadable answer, "too fast", a signature
refused (a secret being rotated, a clock off by more than the robot's hour). Permanent: HTTP 4xx, a
token or webhook key the platform does not know, a missing configuration.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from config.channels import ChannelSettings

DINGTALK_TEXT_BYTES = 18_000  #: DingTalk takes about 20,000 bytes of markdown; leave room for the title
WECOM_MARKDOWN_BYTES = 4096  #: WeCom robots: markdown content at most 4096 bytes (UTF-8)
ZZD_MSG_BYTES = 2048  #: 浙政钉 work notice: the msg JSON at most 2048 bytes
DINGTALK_PERMANENT = frozenset({300001, 300005, 400101, 400102})  #: token missing/invalid, robot stopped
WECOM_PERMANENT = frozenset({93000, 93004, 40058})  #: invalid webhook key, robot disabled, bad content
CHINA = timezone(timedelta(hours=8))


class ChannelError(Exception):
    """A message did not arrive; `transient` tells whether trying again may help."""

    transient = False


class TransientChannelError(ChannelError):
    """Try again later."""

    transient = True


class PermanentChannelError(ChannelError):
    """Do not try again."""


@dataclass(frozen=True)
class Message:
    """What goes out: a title (the notification's first line) and plain text."""

    title: str
    text: str
    biz_id: str  #: a stable id of this delivery (the outbox row's Message-ID): 浙政钉 deduplicates by it


@dataclass(frozen=True)
class Delivery:
    """A message that arrived; `duplicate` when the platform said it had it already (浙政钉 bizMsgId)."""

    duplicate: bool = False


def clip(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` UTF-8 bytes, ending in "…" when cut."""
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[:limit - 3].decode(errors="ignore") + "…"


def _open(request: urllib.request.Request, timeout: float) -> dict:
    """Send a request and return its JSON answer. :raises ChannelError:"""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310  (http(s) URLs from settings)
            raw = answer.read()
    except urllib.error.HTTPError as exc:
        error = TransientChannelError if exc.code >= 500 or exc.code == 429 else PermanentChannelError
        raise error(f"HTTP {exc.code}：{exc.reason}") from None
    except (OSError, http.client.HTTPException) as exc:  # URLError, timeouts, resets are OSErrors
        raise TransientChannelError(f"无法连接：{getattr(exc, 'reason', exc)}") from None
    try:
        found = json.loads(raw.decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise TransientChannelError(f"应答无法解析：{raw[:200]!r}") from None
    if not isinstance(found, dict):
        raise TransientChannelError(f"应答无法解析：{raw[:200]!r}")
    return found


def _post_json(url: str, payload: Mapping[str, object], timeout: float) -> dict:
    body = json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    return _open(request, timeout)


def dingtalk_sign(timestamp_ms: int, secret: str) -> str:
    """The DingTalk robot signature of `timestamp_ms` (not yet URL-encoded)."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def dingtalk_url(settings: ChannelSettings, token: str, secret: str | None, now: datetime) -> str:
    """The signed webhook address for one message sent at `now`."""
    params = {"access_token": token}
    if secret:
        timestamp = int(now.timestamp() * 1000)
        params.update(timestamp=str(timestamp), sign=dingtalk_sign(timestamp, secret))
    return f"{settings.dingtalk_url}?{urllib.parse.urlencode(params)}"


def send_dingtalk(settings: ChannelSettings, *, token: str, secret: str | None, message: Message,
                  now: datetime) -> Delivery:
    """Post `message` to a DingTalk custom robot as markdown. :raises ChannelError:"""
    text = "\n\n".join(line for line in message.text.splitlines() if line.strip())
    payload = {"msgtype": "markdown", "markdown": {
        "title": clip(message.title, 300), "text": clip(f"#### {message.title}\n\n{text}", DINGTALK_TEXT_BYTES)}}
    answer = _post_json(dingtalk_url(settings, token, secret, now), payload, settings.timeout)
    code = answer.get("errcode")
    if code == 0:
        return Delivery()
    error = PermanentChannelError if code in DINGTALK_PERMANENT else TransientChannelError
    raise error(f"钉钉机器人拒收：errcode {code}，{answer.get('errmsg', '')}"[:500])


def send_wecom(settings: ChannelSettings, *, key: str, message: Message) -> Delivery:
    """Post `message` to a WeCom group robot as markdown. :raises ChannelError:"""
    url = f"{settings.wecom_url}?{urllib.parse.urlencode({'key': key})}"
    payload = {"msgtype": "markdown",
               "markdown": {"content": clip(f"**{message.title}**\n{message.text}", WECOM_MARKDOWN_BYTES)}}
    answer = _post_json(url, payload, settings.timeout)
    code = answer.get("errcode")
    if code == 0:
        return Delivery()
    error = PermanentChannelError if code in WECOM_PERMANENT else TransientChannelError
    raise error(f"企业微信机器人拒收：errcode {code}，{answer.get('errmsg', '')}"[:500])


def zzd_signature(secret: str, method: str, timestamp: str, nonce: str, uri: str,
                  params: Mapping[str, str]) -> str:
    """The 浙政钉 gateway's X-Hmac-Auth-Signature of one call."""
    lines = [method, timestamp, nonce, uri]
    if params:
        lines.append("&".join(f"{k}={params[k]}" for k in sorted(params)))
    digest = hmac.new(secret.encode(), "\n".join(lines).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass
class ZzdClient:
    """A 浙政钉 gateway session: fetches an access token once, then sends work notices with it."""

    settings: ChannelSettings
    clock: object  #: () -> aware datetime
    _token: str | None = field(default=None, repr=False)

    def _headers(self, method: str, uri: str, params: Mapping[str, str]) -> dict[str, str]:
        now = self.clock().astimezone(CHINA)  # type: ignore[operator]
        timestamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+08:00"
        nonce = f"{int(now.timestamp() * 1000)}{secrets.randbelow(9000) + 1000}"
        return {"X-Hmac-Auth-Timestamp": timestamp, "X-Hmac-Auth-Version": "1.0", "X-Hmac-Auth-Nonce": nonce,
                "apiKey": self.settings.zzd_app_key,
                "X-Hmac-Auth-Signature": zzd_signature(self.settings.zzd_app_secret, method, timestamp, nonce, uri,
                                                       params)}

    def _call(self, method: str, uri: str, params: dict[str, str]) -> dict:
        headers = self._headers(method, uri, params)
        encoded = urllib.parse.urlencode(params)
        if method == "GET":
            request = urllib.request.Request(f"{self.settings.zzd_base_url}{uri}?{encoded}", headers=headers)
        else:
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
            request = urllib.request.Request(f"{self.settings.zzd_base_url}{uri}", data=encoded.encode(),
                                             headers=headers, method=method)
        return _open(request, self.settings.timeout)

    def token(self) -> str:
        """The application's access token (fetched once per client). :raises ChannelError:"""
        if self._token is None:
            if not self.settings.zzd_configured:
                raise PermanentChannelError("浙政钉未配置：请设置 REGISTRY_ZZD_APP_KEY、REGISTRY_ZZD_APP_SECRET、"
                                            "REGISTRY_ZZD_TENANT_ID")
            answer = self._call("GET", "/gettoken.json", {"appkey": self.settings.zzd_app_key,
                                                          "appsecret": self.settings.zzd_app_secret})
            data = (answer.get("content") or {}).get("data") if isinstance(answer.get("content"), dict) else None
            token = data.get("accessToken") if isinstance(data, dict) else None
            if not answer.get("success") or not token:
                raise TransientChannelError(f"浙政钉取令牌失败：{_zzd_reason(answer)}")
            self._token = str(token)
        return self._token

    def work_notice(self, *, receiver: str, organization: bool, message: Message) -> Delivery:
        """Send a work notice to an account (or every member of an organisation). :raises ChannelError:"""
        msg = {"msgtype": "text", "text": {"content": f"{message.title}\n{message.text}"}}
        encoded = json.dumps(msg, ensure_ascii=False)
        if len(encoded.encode()) > ZZD_MSG_BYTES:
            room = ZZD_MSG_BYTES - len(json.dumps({"msgtype": "text", "text": {"content": ""}}).encode()) - 64
            msg["text"]["content"] = clip(msg["text"]["content"], room)
            encoded = json.dumps(msg, ensure_ascii=False)
        params = {"access_token": self.token(), "tenantId": self.settings.zzd_tenant_id,
                  "organizationCodes" if organization else "receiverIds": receiver,
                  "bizMsgId": message.biz_id, "msg": encoded}
        answer = self._call("POST", "/message/workNotification", params)
        content = answer.get("content") if isinstance(answer.get("content"), dict) else {}
        if answer.get("success") and content.get("success", True):
            return Delivery()
        reason = _zzd_reason(answer)
        if "重复" in reason or "duplicate" in reason.lower():
            return Delivery(duplicate=True)  # the platform has this bizMsgId already: it was delivered
        if "token" in reason.lower() or "令牌" in reason:
            self._token = None
        raise TransientChannelError(f"浙政钉工作通知失败：{reason}"[:500])


def _zzd_reason(answer: Mapping[str, object]) -> str:
    content = answer.get("content") if isinstance(answer.get("content"), dict) else {}
    for source in (content, answer):
        for key in ("responseMessage", "errorMsg", "message", "errmsg"):
            if source.get(key):  # type: ignore[union-attr]
                return str(source[key])  # type: ignore[index]
    return json.dumps(answer, ensure_ascii=False)[:300]
