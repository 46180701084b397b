"""Where the delivery channels send (issue 18 §8; docs/channels.md): REGISTRY_DINGTALK_*, REGISTRY_WECOM_*,
REGISTRY_ZZD_*.

The robots' webhook addresses are fixed hosts: a user or an office stores only the robot's token (DingTalk
`access_token`, WeCom `key`), never a URL, so nobody can make the server post to an address of their
choosing. The base URLs are settings so that a private deployment (政务外网 proxy) or a test's local fake
server can stand in.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ChannelSettingError(ValueError):
    """A channel setting is malformed."""


@dataclass(frozen=True)
class ChannelSettings:
    """The channels' endpoints, the 浙政钉 application's credentials and the per-target rate limits."""

    dingtalk_url: str = "https://oapi.dingtalk.com/robot/send"
    wecom_url: str = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
    zzd_base_url: str = "https://openplatform.dg-work.cn"  #: 浙政钉 (专有钉钉) open platform gateway
    zzd_app_key: str = ""
    zzd_app_secret: str = field(default="", repr=False)
    zzd_tenant_id: str = ""
    timeout: float = 10.0  #: seconds per HTTP request
    robot_per_minute: int = 20  #: DingTalk and WeCom robots: 20 messages a minute each (their documented limit)
    zzd_per_minute: int = 60  #: 浙政钉 work notices per recipient a minute (assumed; not published)

    @property
    def zzd_configured(self) -> bool:
        """Tell whether 浙政钉 work notices can be sent (an application key, secret and tenant are set)."""
        return bool(self.zzd_app_key and self.zzd_app_secret and self.zzd_tenant_id)

    @classmethod
    def from_env(cls, env: dict[str, str]) -> ChannelSettings:
        """Read REGISTRY_DINGTALK_URL, REGISTRY_WECOM_URL, REGISTRY_ZZD_*, REGISTRY_CHANNEL_*. :raises ChannelSettingError:"""
        values: dict[str, object] = {}
        for name, var in (("dingtalk_url", "REGISTRY_DINGTALK_URL"), ("wecom_url", "REGISTRY_WECOM_URL"),
                          ("zzd_base_url", "REGISTRY_ZZD_BASE_URL")):
            text = env.get(var, "").strip()
            if text:
                if not text.startswith(("https://", "http://")):
                    raise ChannelSettingError(f"{var} must be an http(s) URL")
                values[name] = text.rstrip("/")
        for name, var in (("zzd_app_key", "REGISTRY_ZZD_APP_KEY"), ("zzd_app_secret", "REGISTRY_ZZD_APP_SECRET"),
                          ("zzd_tenant_id", "REGISTRY_ZZD_TENANT_ID")):
            values[name] = env.get(var, "").strip()
        for name, var, low, high in (("robot_per_minute", "REGISTRY_CHANNEL_ROBOT_PER_MINUTE", 1, 20),
                                     ("zzd_per_minute", "REGISTRY_CHANNEL_ZZD_PER_MINUTE", 1, 6000)):
            text = env.get(var, "").strip()
            if text:
                if not (text.isascii() and text.isdigit() and low <= int(text) <= high):
                    raise ChannelSettingError(f"{var} must be a whole number from {low} to {high}")
                values[name] = int(text)
        return cls(**values)  # type: ignore[arg-type]
