"""The relay's failures are told in Chinese first (what the 提醒 page shows), the technical detail after " / "."""

import smtplib

import pytest

from registry.platform.mail import ConnectionFailed, PermanentMailError, classify


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
