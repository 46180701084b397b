"""The command line speaks Chinese: every command and option of the registry has a Chinese help, listed first."""

import re

import click
import pytest

from registry.cli import help_zh
from tests.cli.test_commands import make_app, run

CJK = re.compile(r"[\u4e00-\u9fff]")
FLASK_OWN = {"run", "shell", "routes"}  # Flask's own commands keep Flask's help


def commands(app):
    def walk(command, path):
        yield path, command
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                yield from walk(sub, f"{path} {name}")
    for name, command in app.cli.commands.items():
        if name not in FLASK_OWN:
            yield from walk(command, name)


def test_every_command_and_option_has_a_chinese_help(tmp_path):
    app, _ = make_app(tmp_path)
    seen = list(commands(app))
    assert len(seen) >= 20
    missing = [path for path, c in seen if not CJK.match(c.help or "")]
    missing += [f"{path} {p.opts[0]}" for path, c in seen for p in c.params
                if isinstance(p, click.Option) and not CJK.match(p.help or "")]
    assert missing == []
    assert set(help_zh.COMMANDS) == {path for path, _ in seen}  # no stale entries
    options = {(path, p.opts[0]) for path, c in seen for p in c.params if isinstance(p, click.Option)}
    assert set(help_zh.OPTIONS) <= options


def test_the_listing_and_a_command_help_read_in_chinese(tmp_path):
    app, _ = make_app(tmp_path)
    listing = run(app, "--help").output
    assert "创建用户。" in listing and "运行一次每日扫描" in listing
    detail = run(app, "create-user", "--help").output
    assert detail.index("创建用户") < detail.index("Create a user")  # English kept beside, after
    assert "用户所辖地区的 GB/T 2260 行政区划代码" in detail


@pytest.mark.parametrize("english", [None, "", "already said"])
def test_joining_keeps_english_only_when_it_adds_something(english):
    assert help_zh._joined("中文 already said", english) == "中文 already said"
