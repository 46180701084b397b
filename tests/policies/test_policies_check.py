"""`flask --app app policies check` lists every programme of the seeds, each rule with its source
(or `assumed` and why) — issue 17's acceptance."""

import re

from tests.cli.test_commands import make_app, run

PROGRAMMES = ("zhejiang_key_little_giant", "zhejiang_hidden_champion", "zhejiang_eagle", "single_champion",
              "green_factory", "chongqing_leading", "national")


def test_policies_check_lists_each_programme_and_each_rule_with_its_source(tmp_path):
    app, _ = make_app(tmp_path)
    result = run(app, "policies", "check")
    assert result.exit_code == 0, result.output
    out = result.output
    for programme in PROGRAMMES:
        assert f"项目 {programme}：" in out, programme
    rules = [line for line in out.splitlines() if line.startswith("    - ")]
    assert len(rules) > 300
    for line in rules:  # every rule names a source or says it is assumed and why
        where = line.split(" ← ", 1)[1]
        assert where and "缺出处" not in where, line
        assert where.startswith("assumed：") and len(where) > len("assumed：") or re.search(r"seed|public|〔|号", where), line
    # the lists, channels and reports of issue 17, with their text
    assert re.search(r"推荐渠道 central_enterprise：中央企业推荐 = 每家中央企业每批不超过3家；不占名额：前三批单项冠军培育企业"
                     r".* ← 2021年第六批制造业单项冠军遴选及第三批复核通知 一（五）（seed 001）", out)
    assert re.search(r"推荐渠道 association：省级行业协会推荐 = 每家行业协会每批不超过10家 ← 浙经信企创〔2016〕234号", out)
    assert re.search(r"年度信息更新截止（annual_update.due） = 03-31 ← 浙经信企创〔2016〕234号（seed 001） 四（四）：「隐形冠军培育企", out)
    assert re.search(r"定期报告 quarterly_progress：.* = 每季度结束后15日内，由主管部门报送（每季度） ← assumed：", out)
    assert re.search(r"\[key_little_giant\] 重点\"小巨人\"企业\n(    - .*\n)*    - 名单（list） = 年度遴选名单", out)
    assert "14 个政策文件有效" in out
