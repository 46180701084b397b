"""The command line's help in Chinese, with the English help kept beside it.

`flask --help` lists each command by the first sentence of its help; the commands are declared in
their features (English docstrings for the developers), so the Chinese text a 运维人员 reads first is
set here, once, when the commands are registered. `tests/cli/test_help_in_chinese.py` fails for a
command or option without a Chinese help, so a new command cannot slip through in English only.
"""

from __future__ import annotations

import click

#: command path → its Chinese help (the first sentence is what `flask --help` lists)
COMMANDS: dict[str, str] = {
    "init-db": "升级数据库到最新结构（alembic upgrade head）。",
    "policies": "政策文件。",
    "policies check": "读取并校验全部政策文件。",
    "policies doc": "生成 docs/policies.md：政策文件中的每条规则、取值、出处及是否为假定。",
    "create-user": "创建用户。密码在提示时输入（隐藏，输入两次）或从标准输入读取，不在命令行上给出。",
    "reset-password": "重置用户 NAME 的密码（提示输入或从标准输入读取）：其会话结束，下次登录须修改密码。",
    "reset-2fa": "清除用户 NAME 的双因素认证（手机和恢复码遗失时）：其会话结束，下次登录重新绑定。",
    "create-token": "为用户 NAME 生成并打印一个新的 API 令牌（REGISTRY_TOKEN_DAYS 天后过期）。",
    "seed-demo": "载入浙江演示名录（可重复运行：第二次不做任何改动）。",
    "audit": "审计日志。",
    "audit verify": "重新计算哈希链：完好时退出码 0；否则为 1，并指出第一条异常记录。",
    "audit anchor": "锚定尚未锚定的链头（须先配置 REGISTRY_AUDIT_ANCHOR_KEY）。",
    "audit archive": "把超过保留期（≥ 180 日）的审计记录移入归档文件，先校验后删除。",
    "audit verify-archive": "校验归档文件：每条哈希和链接，以及其 HMAC-SM3 锚。",
    "import-roster": "导入企业名单（.xlsx 或 .csv）：先逐行检查，有一行错误则整批不导入。",
    "export-roster": "导出企业名录（每个称号一行）到 FILE：.xlsx 或 .csv（带 BOM 的 UTF-8）。",
    "regions": "行政区划数据（GB/T 2260）。",
    "regions version": "显示数据库中行政区划数据的版本和来源。",
    "regions migrate-codes": "把登记在已变更行政区划代码下的企业迁移到新代码。",
    "pi": "个人信息加密存储（SM4 密钥）。",
    "pi rekey": "用 REGISTRY_PI_KEY 重新加密仍在旧密钥下的个人信息。",
    "scan": "运行一次每日扫描：状态转换、资格标记、禁止申报期满解除、提醒。",
    "send-reminders": "发送一次待发提醒（清空发件箱）。",
    "send-channels": "发送一次到期的钉钉、企业微信、浙政钉消息（按各渠道限速）。",
    "jobs": "定时任务进程。",
    "jobs run": "运行定时任务进程（阻塞）：每日扫描、提醒发送、每周汇总、看门狗。",
}

#: (command path, option's first flag) → its Chinese help
OPTIONS: dict[tuple[str, str], str] = {
    ("policies doc", "--out"): "写到哪个文件（默认 config/ 旁的 docs/policies.md）",
    ("policies doc", "--check"): "文件与政策文件不一致时退出码 1，不写入",
    ("create-user", "--role"): "角色：officer 业务人员、admin 管理员、leader 领导、auditor 审计人员，或三员之一"
                               "（sysadmin 系统管理员、secadmin 安全管理员、auditadmin 安全审计员）",
    ("create-user", "--region"): "用户所辖地区的 GB/T 2260 行政区划代码",
    ("create-user", "--email"): "用户的电子邮箱（接收提醒）",
    ("create-user", "--password-stdin"): "从标准输入第一行读取密码（脚本用）；否则提示输入",
    ("reset-password", "--password-stdin"): "从标准输入第一行读取新密码",
    ("create-token", "--label"): "令牌用途",
    ("create-token", "--scope"): "权限：read 只读（仅 GET），write 读写",
    ("seed-demo", "--size"): "演示企业数量",
    ("seed-demo", "--demo-password"): "演示用户的密码（默认随机生成，只打印一次）",
    ("seed-demo", "--today"): "演示数据的基准日期",
    ("seed-demo", "--if-empty"): "名录中已有企业时什么也不做",
    ("audit verify", "--anchor"): "此前在数据库之外记下的一条记录编号及其哈希",
    ("audit archive", "--before"): "归档此日（北京时间）之前发生的记录",
    ("audit archive", "--out"): "要创建的归档文件（不覆盖已有文件）",
    ("audit archive", "--today"): "今天的日期（默认按 Asia/Shanghai）",
    ("import-roster", "--dry-run"): "只检查并显示差异，不写入",
    ("import-roster", "--programme"): "只在该项目内识别称号名称（如 national）",
    ("import-roster", "--today"): "检查所依据的日期（默认今天，Asia/Shanghai）",
    ("export-roster", "--region"): "行政区划代码（GB/T 2260）：该地区及其下级",
    ("export-roster", "--tier"): "称号层级代码或中文名称",
    ("export-roster", "--status"): "称号状态",
    ("export-roster", "--expiring-within"): "只导出在 --today 之后 DAYS 天内到期的有效称号",
    ("export-roster", "--q"): "企业名称或统一社会信用代码包含的文字",
    ("export-roster", "--today"): "到期筛选（--expiring-within）的基准日期",
    ("export-roster", "--unmask"): "联系方式显示完整（默认脱敏：138****1234），记入审计",
    ("regions migrate-codes", "--dry-run"): "只列出迁移，不写入",
    ("regions migrate-codes", "--old-code"): "只迁移该旧代码下的企业",
    ("scan", "--today"): "扫描哪一天（默认今天，Asia/Shanghai）",
    ("scan", "--dry-run"): "只打印将发生的变化，不做任何改动",
    ("send-reminders", "--limit"): "最多发送 N 条",
    ("send-channels", "--limit"): "最多发送 N 条",
}


def _joined(chinese: str, english: str | None) -> str:
    english = (english or "").strip()
    return f"{chinese}\n\n{english}" if english and english not in chinese else chinese


def apply(command: click.Command, path: str) -> None:
    """Put the Chinese help in front of `command`'s (and its subcommands' and options') English help."""
    if path in COMMANDS:
        command.help = _joined(COMMANDS[path], command.help)
        command.short_help = None  # listed by the first sentence of the new help
    for param in command.params:
        if isinstance(param, click.Option):
            chinese = OPTIONS.get((path, param.opts[0]))
            if chinese:
                english = (param.help or "").strip()
                param.help = f"{chinese}（{english}）" if english and english not in chinese else chinese
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            apply(sub, f"{path} {name}")
