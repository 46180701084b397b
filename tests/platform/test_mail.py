"""The relay's failures are told in Chinese first (what the 提醒 page shows), the technical detail after " / "."""

import email
import email.policy
import random
import smtplib
from email.generator import BytesGenerator
from io import BytesIO

import pytest

from registry.platform.mail import (
    _PLAIN_ADDRESS,
    ConnectionFailed,
    PermanentMailError,
    _build_email_message,
    build_message,
    check_address,
    classify,
)


@pytest.mark.parametrize(("exc", "said"), [
    (ConnectionRefusedError(111, "Connection refused"), "无法连接邮件服务器（连接被拒绝）"),
    (TimeoutError("timed out"), "连接邮件服务器超时"),
    (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), "邮件服务器断开了连接"),
    (smtplib.SMTPAuthenticationError(535, b"bad credentials"), "邮件服务器登录失败"),
    (OSError(101, "Network is unreachable"), "无法连接邮件服务器"),
])
def test_a_relay_that_cannot_be_used_is_said_in_chinese_with_the_detail_after(exc, said):
    error = classify(exc)
    assert isinstance(error, ConnectionFailed)
    chinese, sep, detail = str(error).partition(" / ")
    assert said in chinese and sep and exc.__class__.__name__ in detail
    assert not any(c.isascii() and c.isalpha() for c in chinese)  # an officer reads it: no setting names
    assert "REGISTRY_SMTP_*" in detail  # the operator finds the setting in the log and the export


def test_a_relay_asking_for_login_is_said_in_chinese_and_the_setting_named_after():
    error = classify(smtplib.SMTPSenderRefused(530, b"5.7.0 Authentication required", "a@b.cn"))
    chinese, _, detail = str(error).partition(" / ")
    assert "要求登录" in chinese and "530" in chinese and not any(c.isascii() and c.isalpha() for c in chinese)
    assert "REGISTRY_SMTP_*" in detail and "Authentication required" in detail


def test_a_refused_recipient_keeps_its_smtp_code():
    error = classify(smtplib.SMTPRecipientsRefused({"a@b.cn": (550, b"no such user")}))
    assert isinstance(error, PermanentMailError) and "550" in str(error)


def _read_back(message):
    """What a recipient's client reads: the message as sent on the wire, parsed again."""
    wire = BytesIO()
    BytesGenerator(wire, policy=message.policy.clone(linesep="\r\n")).flatten(message)
    parsed = email.message_from_bytes(wire.getvalue(), policy=email.policy.default)
    return ({k: str(parsed[k]) for k in ("From", "To", "Subject", "Message-ID")},
            parsed.get_content().replace("\r\n", "\n"), parsed.get_content_charset())


@pytest.mark.parametrize("from_addr", ["registry@zj.example.cn", "浙江省梯度培育平台 <registry@zj.example.cn>"])
def test_a_message_reads_back_as_written_whichever_way_it_is_built(from_addr):
    subject = "【梯度培育提醒】台州精工机械有限公司：专精特新中小企业称号有效期届满（还有 30 天）" * 2
    body = "王总您好：\n\n贵企业的称号将于 2026年9月1日 届满。\n" + "很长的一行" * 300 + "\n"
    fields = dict(from_addr=from_addr, to_addr="boss@factory.cn", subject=subject, body=body,
                  message_id="<reminder.1.enterprise.abc@zj.example.cn>")
    built = build_message(**fields)
    headers, text, charset = _read_back(built)
    assert headers == {"From": from_addr, "To": "boss@factory.cn", "Subject": subject,
                       "Message-ID": "<reminder.1.enterprise.abc@zj.example.cn>"}
    assert (text, charset) == (body, "utf-8")
    assert _read_back(_build_email_message(**fields)) == (headers, text, charset)


def test_a_bad_address_is_refused_before_any_message_is_built():
    with pytest.raises(PermanentMailError):
        build_message(from_addr="registry@zj.example.cn", to_addr="not an address", subject="s", body="b",
                      message_id="<x@y.cn>")


def _parsed(addr):
    """What `check_address` answers through the header registry's parser (its path for any other address)."""
    try:
        return check_address(" " + addr)  # a leading space never takes the quick path
    except PermanentMailError:
        return None


def test_an_address_taken_without_parsing_is_one_the_parser_accepts_as_it_is():
    atext, label = "aZ09-_+!#$%&'*/=?^`{|}~", "aZ09-"
    rng = random.Random(19)

    def part(chars):
        return "".join(rng.choice(chars + "...") for _ in range(rng.randint(1, 10)))

    quick = 0
    for _ in range(20_000):
        addr = f"{part(atext)}@{part(label)}"
        if _PLAIN_ADDRESS.fullmatch(addr):
            quick += 1
            assert _parsed(addr) == addr == check_address(addr)
    assert quick > 1_000
    for addr in ("a..b@x.cn", ".a@x.cn", "a.@x.cn", "a@x", "a@.x.cn", "a@x..cn", "a b@x.cn", "a@x.cn\n", "中@x.cn"):
        assert not _PLAIN_ADDRESS.fullmatch(addr)
        assert (check_address(addr) if _parsed(addr) else None) == _parsed(addr)
