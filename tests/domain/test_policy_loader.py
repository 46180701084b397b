"""The policy loader read in full: every key of a tier lands in its field, every default is the
documented one, and every malformed file is refused naming the file, the key path and the
problem exactly (a wrong key path puts the officer in the wrong place of the file). Also the
questions a PolicySet answers: which version governs, which reviews a later version takes over,
which programmes make a ladder, which tiers are in force."""

import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from registry.domain.criteria_nodes import Criteria, Manual
from registry.domain.errors import NotFound, PolicyError
from registry.domain.policy import (
    Period,
    Policy,
    PolicySet,
    Prerequisite,
    Provenance,
    RevocationReason,
    Tier,
    _kind_name,
    _Reader,
    load_policies,
    load_policy_file,
    parse_period,
    parse_policy,
    stated_rule_keys,
    unsourced,
    unsourced_in,
)

HEAD = """
[policy]
code = "x-2026"
programme = "x"
name = "X办法"
document_no = "X〔2026〕1号"
effective_from = 2026-01-01
source = "test"
"""

TIER = """
[[tiers]]
code = "x_tier"
name = "X称号"
rank = 1
authority = "province"
[tiers.validity]
semantics = "fixed_term"
years = 3
[tiers.review]
window_days = 90
missed = "expire"
"""

MINIMAL = HEAD + TIER

FULL = """
[policy]
code = "full-2026"
programme = "full"
name = "完整办法"
document_no = "F〔2026〕2号"
effective_from = 2026-03-01
source = "full test"
ladder = "national"
reviews_titles_of = ["full-2020"]

[sources]
effective_from = { source = "F〔2026〕2号 第三十条", quote = "自2026年3月1日起施行" }
reviews_titles_of = { assumed = true, note = "原文不在 seeds" }

[[tiers]]
code = "base"
name = "基础称号"
rank = 1
authority = "city"
[tiers.validity]
semantics = "until_superseded"
[tiers.review]
missed = "expire"

[[tiers]]
code = "top"
name = "顶层称号"
rank = 2
authority = "ministry"
review_chain = ["city", "province", "ministry"]
excluded_if_holding = ["base"]
requires_audit_code = true
downgrades_to = "base"
[tiers.sources]
authority = { source = "F〔2026〕2号 第五条", quote = "由工业和信息化部认定" }
"validity.years" = { assumed = true, note = "原文未写年限" }
[tiers.validity]
semantics = "year_end"
years = 2
[tiers.review]
window_days = 0
missed = "revoke"
failed = "expire"
[tiers.annual_update]
due = "02-29"
missed = "lose_review_eligibility"
[tiers.major_change]
deadline = "30个工作日"
missed = "revoke"
[[tiers.prerequisites]]
any_of = ["base"]
when_revenue_at_most = 400000000
note = "年销售收入4亿元以下的企业"
source = "F〔2026〕2号 第六条"
quote = "4亿元以下"
[[tiers.prerequisites]]
any_of = ["base", "top"]
assumed = true
note = "假定"
[[tiers.prerequisites]]
any_of = ["top"]
source = "F〔2026〕2号 第七条"
[[tiers.revocation_reasons]]
code = "fraud"
name = "弄虚作假"
ban_years = 3
scope = "all_tiers"
basis = "第十六条"
ban_blocks = "ladder"
[[tiers.revocation_reasons]]
code = "moved"
name = "迁出"
ban_years = 0
scope = "this_tier"
assumed = true
note = "原文未写"
[tiers.reminders]
expiry = [7, 30, 7, 0]
annual_update = [1]
[tiers.criteria]
source = "F〔2026〕2号 第六条"
[tiers.criteria.check]
kind = "manual"
name = "人工核实"
"""


def write(tmp_path: Path, text: str, name: str = "x-2026.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refusal(text: str, name: str = "x-2026.toml") -> PolicyError:
    with pytest.raises(PolicyError) as err:
        parse_policy(name, tomllib.loads(text))
    return err.value


def full() -> Policy:
    return parse_policy("full-2026.toml", tomllib.loads(FULL))


# ---------------------------------------------------------------------------- every field read

def test_the_policy_head_is_read_in_full():
    policy = full()
    assert (policy.code, policy.programme, policy.name, policy.document_no) == (
        "full-2026", "full", "完整办法", "F〔2026〕2号")
    assert (policy.effective_from, policy.source, policy.ladder) == (date(2026, 3, 1), "full test", "national")
    assert policy.reviews_titles_of == ("full-2020",)
    assert policy.sources == {
        "effective_from": Provenance("F〔2026〕2号 第三十条", "自2026年3月1日起施行", False, ""),
        "reviews_titles_of": Provenance("", "", True, "原文不在 seeds")}
    assert [t.code for t in policy.tiers] == ["base", "top"]


def test_a_tier_with_every_key_lands_in_every_field():
    top = full().tiers[1]
    assert top == Tier(
        code="top", name="顶层称号", rank=2, authority="ministry", policy_code="full-2026", programme="full",
        validity="year_end", validity_years=2, review_window_days=0, missed_review="revoke",
        failed_review="expire", annual_update_due=(2, 29), missed_annual_update="lose_review_eligibility",
        change_deadline=Period(30, "working_days"), missed_change_report="revoke",
        prerequisites=(
            Prerequisite(("base",), Decimal(400_000_000), "年销售收入4亿元以下的企业",
                         Provenance("F〔2026〕2号 第六条", "4亿元以下", False, "年销售收入4亿元以下的企业")),
            Prerequisite(("base", "top"), None, "假定", Provenance("", "", True, "假定")),
            Prerequisite(("top",), None, "", Provenance("F〔2026〕2号 第七条", "", False, ""))),
        excluded_if_holding=("base",),
        revocation_reasons=(
            RevocationReason("fraud", "弄虚作假", 3, "all_tiers", "第十六条", "ladder", False, ""),
            RevocationReason("moved", "迁出", 0, "this_tier", "", "programme", True, "原文未写")),
        reminders={"expiry": (30, 7, 0), "annual_update": (1,)},
        review_chain=("city", "province", "ministry"), requires_audit_code=True, downgrades_to="base",
        criteria=Criteria(source="F〔2026〕2号 第六条", items=(
            Manual(id="check", name="人工核实", source="F〔2026〕2号 第六条"),)),
        review_timing="before_expiry", review_after_expiry_days=None, ladder="national",
        sources={"authority": Provenance("F〔2026〕2号 第五条", "由工业和信息化部认定", False, ""),
                 "validity.years": Provenance("", "", True, "原文未写年限")})


def test_a_tier_stating_only_what_is_required_gets_the_documented_defaults():
    base = full().tiers[0]
    assert base == Tier(
        code="base", name="基础称号", rank=1, authority="city", policy_code="full-2026", programme="full",
        validity="until_superseded", validity_years=None, review_window_days=None, missed_review="expire",
        failed_review="expire", annual_update_due=None, missed_annual_update="flag", change_deadline=None,
        missed_change_report="flag", prerequisites=(), excluded_if_holding=(), revocation_reasons=(),
        reminders={}, review_chain=(), requires_audit_code=False, downgrades_to=None, criteria=Criteria(),
        review_timing="before_expiry", review_after_expiry_days=None, ladder="national", sources={})


def test_a_failed_review_defaults_to_what_a_missed_one_does():
    tier = parse_policy("x-2026.toml", tomllib.loads(MINIMAL.replace('"expire"', '"revoke"'))).tiers[0]
    assert (tier.missed_review, tier.failed_review) == ("revoke", "revoke")


def test_a_policy_without_ladder_or_later_reviews():
    policy = parse_policy("x-2026.toml", tomllib.loads(MINIMAL))
    assert policy.ladder is None and policy.tiers[0].ladder is None
    assert policy.reviews_titles_of == () and policy.sources == {}
    assert policy.tiers[0].policy_code == "x-2026" and policy.tiers[0].programme == "x"


def test_a_review_that_follows_expiry_stated_as_follows_expiry():
    text = MINIMAL.replace('missed = "expire"', 'missed = "expire"\nfollows_expiry = true\nafter_expiry_days = 60')
    tier = parse_policy("x-2026.toml", tomllib.loads(text)).tiers[0]
    assert (tier.review_timing, tier.review_after_expiry_days) == ("after_expiry", 60)
    assert tier.review_follows_expiry and tier.post_expiry_review_days == 60
    plain = parse_policy("x-2026.toml", tomllib.loads(MINIMAL)).tiers[0]
    assert not plain.review_follows_expiry and plain.post_expiry_review_days is None


def test_a_review_window_of_zero_days_is_allowed_and_none_is_none():
    zero = parse_policy("x-2026.toml", tomllib.loads(MINIMAL.replace("window_days = 90", "window_days = 0")))
    assert zero.tiers[0].review_window_days == 0
    none = parse_policy("x-2026.toml", tomllib.loads(MINIMAL.replace("window_days = 90\n", "")))
    assert none.tiers[0].review_window_days is None


def test_reminders_are_distinct_days_latest_first():
    text = MINIMAL + "[tiers.reminders]\nexpiry = [1, 60, 1, 30]\nchange_report = [0]\n"
    tier = parse_policy("x-2026.toml", tomllib.loads(text)).tiers[0]
    assert tier.reminders == {"expiry": (60, 30, 1), "change_report": (0,)}


# ---------------------------------------------------------------------------- refusals

REFUSALS = [
    # (old, new, key, problem) on MINIMAL: the whole problem text
    ('years = 3', 'years = "three"', "tiers[0].validity.years", "expected a whole number, got str 'three'"),
    ('rank = 1', 'rank = true', "tiers[0].rank", "expected a whole number, got a boolean"),
    ('rank = 1', 'rank = 0', "tiers[0].rank", "must be a positive whole number; got 0"),
    ('rank = 1', 'rank = -1', "tiers[0].rank", "must be a positive whole number; got -1"),
    ('years = 3', 'years = 0', "tiers[0].validity.years", "must be a positive whole number; got 0"),
    ('window_days = 90', 'window_days = -1', "tiers[0].review.window_days", "must be a positive whole number; got -1"),
    ('name = "X称号"', 'name = 7', "tiers[0].name", "expected a string, got int 7"),
    ('rank = 1', 'rank = 1\nreview_chain = "city"', "tiers[0].review_chain", "expected a list, got str 'city'"),
    ('rank = 1', 'rank = 1\nreview_chain = ["city", "village"]', "tiers[0].review_chain[1]",
     "must be one of district, city, province, ministry"),
    ('rank = 1', 'rank = 1\ncriteria = 3', "tiers[0].criteria", "expected a table, got int 3"),
    ('rank = 1', 'rank = 1\nrequires_audit_code = "yes"', "tiers[0].requires_audit_code",
     "expected true or false, got str 'yes'"),
    ('effective_from = 2026-01-01', 'effective_from = "soon"', "policy.effective_from",
     "expected a date (YYYY-MM-DD), got str 'soon'"),
    ('source = "test"', 'source = "test"\nreviews_titles_of = [1]', "policy.reviews_titles_of",
     "expected a list of policy codes"),
    ('authority = "province"', 'authority = "village"', "tiers[0].authority",
     "must be one of district, city, province, ministry; got 'village'"),
    ('semantics = "fixed_term"', 'semantics = "forever"', "tiers[0].validity.semantics",
     "must be one of fixed_term, year_end, until_superseded; got 'forever'"),
    ('years = 3\n', '', "tiers[0].validity.years", "required when semantics is fixed_term"),
    ('semantics = "fixed_term"\nyears = 3\n', 'semantics = "year_end"\n', "tiers[0].validity.years",
     "required when semantics is year_end"),
    ('rank = 1', 'rnak = 1', "tiers[0].rank", "missing (required)"),
    ('[tiers.validity]\nsemantics = "fixed_term"\nyears = 3\n', '', "tiers[0].validity", "missing (required)"),
    ('years = 3', 'years = 3\ncolour = "red"', "tiers[0].validity.colour", "unknown key (a typo?)"),
    ('source = "test"', 'source = "test"\nextra = 1', "policy.extra", "unknown key (a typo?)"),
    ('missed = "expire"', 'missed = "expire"\nfollows_expiry = true\ntiming = "before_expiry"\nafter_expiry_days = 5',
     "tiers[0].review.timing", 'follows_expiry = true means timing = "after_expiry"'),
    ('missed = "expire"', 'missed = "expire"\nfollows_expiry = true', "tiers[0].review.after_expiry_days",
     "required when the review follows expiry (the post-expiry window)"),
    ('missed = "expire"', 'missed = "expire"\nafter_expiry_days = 30', "tiers[0].review.after_expiry_days",
     "only when the review follows expiry"),
    ('missed = "expire"', 'missed = "expire"\nfollows_expiry = "yes"', "tiers[0].review.follows_expiry",
     "expected true or false, got str 'yes'"),
]


@pytest.mark.parametrize(("old", "new", "key", "problem"), REFUSALS)
def test_a_malformed_file_is_refused_with_its_exact_key_and_problem(old, new, key, problem):
    assert old in MINIMAL
    error = refusal(MINIMAL.replace(old, new, 1))
    assert (error.file, error.key, error.problem) == ("x-2026.toml", key, problem)
    assert error.message == f"x-2026.toml: {key}: {problem}"


@pytest.mark.parametrize(("extra", "key", "problem"), [
    ('[tiers.annual_update]\ndue = "13-45"\nmissed = "flag"\n', "tiers[0].annual_update.due",
     "expected a month-day like '04-30'; got '13-45'"),
    ('[tiers.annual_update]\ndue = "04-30"\nmissed = "skip"\n', "tiers[0].annual_update.missed",
     "must be one of lose_review_eligibility, flag; got 'skip'"),
    ('[tiers.major_change]\ndeadline = "soon"\nmissed = "flag"\n', "tiers[0].major_change.deadline",
     "expected e.g. '3 months' or '30 working days'; got 'soon'"),
    ('[tiers.reminders]\nexpiry = [30, -1]\n', "tiers[0].reminders.expiry",
     "expected a list of whole days (0 or more) before the date"),
    ('[tiers.reminders]\nexpiry = [30, true]\n', "tiers[0].reminders.expiry",
     "expected a list of whole days (0 or more) before the date"),
    ('[tiers.reminders]\nexpiry = ["30"]\n', "tiers[0].reminders.expiry",
     "expected a list of whole days (0 or more) before the date"),
    ('[tiers.reminders]\nbirthday = [1]\n', "tiers[0].reminders.birthday", "unknown key (a typo?)"),
    ('[[tiers.prerequisites]]\nany_of = []\n', "tiers[0].prerequisites[0].any_of",
     "expected a non-empty list of tier codes"),
    ('[[tiers.prerequisites]]\nany_of = ["a", 2]\n', "tiers[0].prerequisites[0].any_of",
     "expected a non-empty list of tier codes"),
    ('[[tiers.prerequisites]]\nany_of = ["a"]\nassumed = true\n', "tiers[0].prerequisites[0].note",
     "an assumed rule needs a note saying why (what is known, what is not)"),
    ('[[tiers.prerequisites]]\nany_of = ["a"]\nassumed = "yes"\nnote = "n"\n', "tiers[0].prerequisites[0].assumed",
     "expected true or false, got str 'yes'"),
    ('[[tiers.prerequisites]]\nany_of = ["a"]\nnote = 5\n', "tiers[0].prerequisites[0].note",
     "expected a string, got int 5"),
    ('[[tiers.prerequisites]]\nany_of = ["a"]\nwhen = 5\n', "tiers[0].prerequisites[0].when",
     "unknown key (a typo?)"),
])
def test_a_malformed_sub_table_is_refused_with_its_exact_key_and_problem(extra, key, problem):
    error = refusal(MINIMAL + extra)
    assert (error.key, error.problem) == (key, problem)


REASON = '[[tiers.revocation_reasons]]\ncode = "fraud"\nname = "弄虚作假"\nban_years = 3\nscope = "all_tiers"\n'


@pytest.mark.parametrize(("extra", "key", "problem"), [
    (REASON + 'assumed = true\n', "tiers[0].revocation_reasons[0].note", "an assumed rule needs a note saying why"),
    (REASON + 'ban_blocks = "galaxy"\n', "tiers[0].revocation_reasons[0].ban_blocks",
     "must be one of tier, programme, ladder, all; got 'galaxy'"),
    (REASON + 'basis = 3\n', "tiers[0].revocation_reasons[0].basis", "expected a string, got int 3"),
    (REASON.replace("ban_years = 3", "ban_years = -1"), "tiers[0].revocation_reasons[0].ban_years",
     "must be a positive whole number; got -1"),
    (REASON + REASON, "tiers[0].revocation_reasons", "duplicate reason code"),
])
def test_a_malformed_revocation_reason_is_refused(extra, key, problem):
    error = refusal(MINIMAL + extra)
    assert (error.file, error.key, error.problem) == ("x-2026.toml", key, problem)


def test_a_row_that_is_not_a_table_is_refused_by_its_index():
    error = refusal(MINIMAL.replace("rank = 1", 'rank = 1\nprerequisites = ["base"]'))
    assert (error.key, error.problem) == ("tiers[0].prerequisites[0]", "expected a table")
    error = refusal('tiers = [1]\n' + HEAD)
    assert (error.file, error.key, error.problem) == ("x-2026.toml", "tiers[0]", "expected a table")


def test_a_policy_without_tiers_is_refused():
    error = refusal("tiers = []\n" + HEAD)
    assert (error.file, error.key, error.problem) == ("x-2026.toml", "tiers", "a policy needs at least one tier")
    assert error.message == "x-2026.toml: tiers: a policy needs at least one tier"
    error = refusal(HEAD)
    assert (error.key, error.problem) == ("tiers", "missing (required)")


def test_a_duplicate_tier_code_is_refused_by_its_index():
    error = refusal(MINIMAL + TIER)
    assert (error.file, error.key, error.problem) == ("x-2026.toml", "tiers[1].code", "duplicate tier code 'x_tier'")
    distinct = parse_policy("x-2026.toml", tomllib.loads(MINIMAL + TIER.replace('"x_tier"', '"y_tier"')))
    assert [t.code for t in distinct.tiers] == ["x_tier", "y_tier"]


def test_a_sources_entry_must_name_a_rule_and_carry_a_source_or_be_assumed():
    error = refusal(MINIMAL.replace("rank = 1", 'rank = 1\n[tiers.sources]\ncolour = { source = "x" }'))
    assert error.key == "tiers[0].sources.colour"
    assert error.problem.startswith("not a rule key; one of authority, review_chain, validity.semantics, ")
    error = refusal(HEAD + '[sources]\nname = { source = "x" }\n' + TIER)
    assert (error.key, error.problem) == ("sources.name", "not a rule key; one of effective_from, reviews_titles_of")
    error = refusal(HEAD + '[sources]\neffective_from = { quote = "x" }\n' + TIER)
    assert (error.key, error.problem) == (
        "sources.effective_from.source", "a rule needs its source (document and article or quote), or assumed = true")
    error = refusal(HEAD + '[sources]\neffective_from = { assumed = true }\n' + TIER)
    assert (error.key, error.problem) == (
        "sources.effective_from.source", "an assumed rule needs a note saying why (what is known, what is not)")
    error = refusal(HEAD + '[sources]\neffective_from = { source = "x", page = 3 }\n' + TIER)
    assert (error.key, error.problem) == ("sources.effective_from.page", "unknown key (a typo?)")


def test_a_sources_entry_is_read_in_full():
    text = HEAD + '[sources]\neffective_from = { source = "s", quote = "q", note = "n" }\n' + TIER
    assert parse_policy("x-2026.toml", tomllib.loads(text)).sources == {
        "effective_from": Provenance("s", "q", False, "n")}
    text = HEAD + '[sources]\neffective_from = { assumed = true, note = "n" }\n' + TIER
    assert parse_policy("x-2026.toml", tomllib.loads(text)).sources == {
        "effective_from": Provenance("", "", True, "n")}


# ---------------------------------------------------------------------------- files and directories

def test_a_syntax_error_and_an_unreadable_file_are_named(tmp_path):
    with pytest.raises(PolicyError) as err:
        load_policy_file(write(tmp_path, MINIMAL + "\n[[tiers]\n"))
    assert (err.value.file, err.value.key) == ("x-2026.toml", "(syntax)")
    assert err.value.problem.startswith("Expected ']]' at the end of an array declaration")
    with pytest.raises(PolicyError) as err:
        load_policy_file(tmp_path / "missing.toml")
    assert (err.value.file, err.value.key) == ("missing.toml", "(file)")
    assert "No such file or directory" in err.value.problem
    (tmp_path / "bad.toml").write_bytes(b'\xff\xfe[policy]')
    with pytest.raises(PolicyError) as err:
        load_policy_file(tmp_path / "bad.toml")
    assert (err.value.file, err.value.key) == ("bad.toml", "(file)")
    assert "can't decode byte 0xff" in err.value.problem


def test_a_file_in_utf8_is_read_as_utf8(tmp_path):
    path = tmp_path / "x-2026.toml"
    path.write_bytes(MINIMAL.encode("utf-8"))
    assert load_policy_file(path).tiers[0].name == "X称号"
    assert load_policies(tmp_path).tier("x_tier").name == "X称号"


def test_an_empty_directory_is_refused(tmp_path):
    with pytest.raises(PolicyError) as err:
        load_policies(tmp_path)
    assert (err.value.file, err.value.key, err.value.problem) == (
        str(tmp_path), "(directory)", "no policy files (*.toml) found")


def test_a_policy_code_is_unique_and_matches_its_file_name(tmp_path):
    write(tmp_path, MINIMAL)
    write(tmp_path, MINIMAL.replace('code = "x_tier"', 'code = "y_tier"'), "y-2026.toml")
    with pytest.raises(PolicyError) as err:
        load_policies(tmp_path)
    assert (err.value.file, err.value.key, err.value.problem) == (
        "x-2026.toml", "policy.code", "duplicate policy code 'x-2026'")
    (tmp_path / "y-2026.toml").unlink()
    write(tmp_path, MINIMAL.replace('"x-2026"', '"z-2026"').replace('"x_tier"', '"z_tier"'), "y-2026.toml")
    with pytest.raises(PolicyError) as err:
        load_policies(tmp_path)
    assert (err.value.file, err.value.key, err.value.problem) == (
        "y-2026.toml", "policy.code", "must match the file name ('y-2026')")


def test_two_files_with_distinct_codes_load(tmp_path):
    write(tmp_path, MINIMAL)
    write(tmp_path, MINIMAL.replace('"x-2026"', '"y-2026"').replace('"x_tier"', '"y_tier"'), "y-2026.toml")
    assert {p.code for p in load_policies(tmp_path).policies} == {"x-2026", "y-2026"}


@pytest.mark.parametrize(("extra", "ref"), [
    ('excluded_if_holding = ["ghost"]\n', "ghost"),
    ('downgrades_to = "phantom"\n', "phantom"),
])
def test_a_reference_to_an_unknown_tier_is_refused_naming_the_file_and_tier(tmp_path, extra, ref):
    write(tmp_path, MINIMAL.replace("rank = 1\n", "rank = 1\n" + extra))
    with pytest.raises(PolicyError) as err:
        load_policies(tmp_path)
    assert (err.value.file, err.value.key, err.value.problem) == (
        "x-2026.toml", "tiers[0]", f"refers to unknown tier {ref!r}")


def test_a_reference_in_a_later_file_to_a_tier_of_an_earlier_one_is_known(tmp_path):
    write(tmp_path, MINIMAL)
    later = MINIMAL.replace('"x-2026"', '"y-2026"').replace('"x_tier"', '"y_tier"')
    write(tmp_path, later.replace("rank = 1\n", 'rank = 1\ndowngrades_to = "x_tier"\n'), "y-2026.toml")
    assert load_policies(tmp_path).tier("y_tier").downgrades_to == "x_tier"


# ---------------------------------------------------------------------------- provenance checks

def test_stated_rule_keys_reads_nested_keys_and_skips_empty_values():
    # A stated 0 (a review window of 0 days) is a value and needs its source; false, [] and an
    # absent key state nothing. (Before this test 0 compared equal to False and escaped the check.)
    raw = {"authority": "city", "validity": {"semantics": "fixed_term", "years": 3},
           "review": {"window_days": 0, "missed": "expire", "follows_expiry": False},
           "requires_audit_code": True, "excluded_if_holding": [], "downgrades_to": None}
    assert stated_rule_keys(raw) == ["authority", "validity.semantics", "validity.years", "review.window_days",
                                     "review.missed", "requires_audit_code"]
    assert stated_rule_keys({"requires_audit_code": False, "review": "x"}) == []


def test_unsourced_lists_every_rule_without_a_source_across_tiers():
    text = (HEAD.replace('source = "test"', 'source = "test"\nreviews_titles_of = ["x-2020"]')
            + "[defaults]\nrequires_audit_code = true\n" + TIER
            + '[[tiers.prerequisites]]\nany_of = ["y_tier"]\n'
            + '[[tiers.prerequisites]]\nany_of = ["y_tier"]\nsource = "s"\n'
            + '[[tiers.prerequisites]]\nany_of = ["y_tier"]\nassumed = true\nnote = "n"\n'
            + REASON + REASON.replace('"fraud"', '"other"') + 'basis = "b"\n'
            + TIER.replace('"x_tier"', '"y_tier"').replace("rank = 1", "rank = 2\nrequires_audit_code = false"))
    raw = tomllib.loads(text)
    assert unsourced(parse_policy("x-2026.toml", raw), raw) == [
        "sources.effective_from", "sources.reviews_titles_of",
        "tiers[0].sources.authority", "tiers[0].sources.validity.semantics", "tiers[0].sources.validity.years",
        "tiers[0].sources.review.window_days", "tiers[0].sources.review.missed",
        "tiers[0].sources.requires_audit_code",
        "tiers[0].prerequisites[0]", "tiers[0].revocation_reasons[0]",
        "tiers[1].sources.authority", "tiers[1].sources.validity.semantics", "tiers[1].sources.validity.years",
        "tiers[1].sources.review.window_days", "tiers[1].sources.review.missed"]


def test_a_malformed_criterion_in_a_policy_file_names_the_file_and_the_tier(tmp_path):
    text = MINIMAL + '[tiers.criteria]\nsource = "s"\n[tiers.criteria.c]\nkind = "ghost"\n'
    with pytest.raises(PolicyError) as err:
        load_policy_file(write(tmp_path, text))
    assert (err.value.file, err.value.key) == ("x-2026.toml", "tiers[0].criteria.c.kind")
    with pytest.raises(PolicyError) as err:
        unsourced_in(tmp_path)
    assert (err.value.file, err.value.key) == ("x-2026.toml", "tiers[0].criteria.c.kind")


def test_unsourced_in_names_each_file(tmp_path):
    write(tmp_path, MINIMAL)
    write(tmp_path, MINIMAL.replace('"x-2026"', '"y-2026"').replace('"x_tier"', '"y_tier"'), "y-2026.toml")
    keys = ["sources.effective_from", "tiers[0].sources.authority", "tiers[0].sources.validity.semantics",
            "tiers[0].sources.validity.years", "tiers[0].sources.review.window_days", "tiers[0].sources.review.missed"]
    assert unsourced_in(tmp_path) == [f"x-2026.toml: {k}" for k in keys] + [f"y-2026.toml: {k}" for k in keys]


# ---------------------------------------------------------------------------- small pieces

def test_a_period_reads_as_chinese():
    assert [str(Period(3, "months")), str(Period(10, "days")), str(Period(30, "working_days")),
            str(Period(1, "years"))] == ["3个月", "10日", "30个工作日", "1年"]


def test_a_period_of_one_is_a_period():
    assert parse_period("1 months") == Period(1, "months")
    assert parse_period(" 2 years ") == Period(2, "years")


def test_the_month_day_accepts_29_february():
    text = MINIMAL + '[tiers.annual_update]\ndue = "02-29"\nmissed = "flag"\n'
    assert parse_policy("x-2026.toml", tomllib.loads(text)).tiers[0].annual_update_due == (2, 29)


def test_the_names_of_kinds_in_messages():
    assert _kind_name(str) == "a string" and _kind_name(int) == "a whole number"
    assert _kind_name(dict) == "a table" and _kind_name(list) == "a list"
    assert _kind_name(bool) == "true or false" and _kind_name(date) == "a date (YYYY-MM-DD)"
    assert _kind_name(float) == "a number" and _kind_name(Decimal) == "Decimal"
    assert _kind_name((int, float)) == "a whole number or a number"


def test_the_reader_names_keys_at_the_root_without_a_leading_dot():
    root = _Reader("f.toml", "", {"rows": [{"a": 1}], "flag": True})
    assert root.fail("k", "p").key == "k"
    assert root.items("rows")[0].fail("a", "p").key == "rows[0].a"
    assert root.items("rows")[0].file == "f.toml"
    with pytest.raises(PolicyError) as err:
        root.get("flag", (int, str))
    assert err.value.problem == "expected a whole number or a string, got a boolean"
    assert root.get("flag", (bool, int)) is True
    assert root.items("absent") == []


# ---------------------------------------------------------------------------- the revocation reasons

def tier_with(missed_review: str, reasons=()) -> Tier:
    text = MINIMAL.replace('missed = "expire"', f'missed = "{missed_review}"') + "".join(reasons)
    return parse_policy("x-2026.toml", tomllib.loads(text)).tiers[0]


def test_a_reason_is_found_by_its_code():
    tier = tier_with("expire", [REASON, REASON.replace('"fraud"', '"moved"')])
    assert tier.reason("fraud").code == "fraud" and tier.reason("moved").code == "moved"
    assert tier.reason("ghost") is None


def test_a_missed_review_is_a_built_in_reason_only_where_the_policy_revokes():
    assert tier_with("revoke").reason("review_missed") == RevocationReason(
        "review_missed", "有效期届满前未提交复核材料", 0, "this_tier", "政策规定未参加复核的撤销称号（x-2026）", "tier")
    assert tier_with("expire").reason("review_missed") is None
    assert tier_with("revoke").reason("fraud") is None  # the built-in reason is review_missed only


def test_a_policy_naming_review_missed_itself_keeps_its_own_reason():
    own = REASON.replace('"fraud"', '"review_missed"')
    assert tier_with("revoke", [own]).reason("review_missed").ban_years == 3


# ---------------------------------------------------------------------------- the policy set

def version(code: str, effective: str, tiers: list[tuple[str, int]], *, programme="x", ladder=None,
            reviews=()) -> Policy:
    text = HEAD.replace('"x-2026"', f'"{code}"').replace("2026-01-01", effective).replace(
        'programme = "x"', f'programme = "{programme}"')
    if ladder:
        text += f'ladder = "{ladder}"\n'
    if reviews:
        text += "reviews_titles_of = [" + ", ".join(f'"{r}"' for r in reviews) + "]\n"
    for tier_code, years in tiers:
        text += TIER.replace('"x_tier"', f'"{tier_code}"').replace("years = 3", f"years = {years}")
    return parse_policy(f"{code}.toml", tomllib.loads(text))


def test_the_version_in_force_on_a_day_and_an_unknown_policy_code_falls_back_to_the_day():
    policies = PolicySet([version("x-2024", "2024-01-01", [("t", 2)]), version("x-2020", "2020-01-01", [("t", 1)])])
    assert [p.code for p in policies.policies] == ["x-2020", "x-2024"]
    assert policies.by_code["x-2024"].code == "x-2024"
    assert policies.tier("t", date(2023, 12, 31)).validity_years == 1
    assert policies.tier("t", date(2024, 1, 1)).validity_years == 2
    assert policies.tier("t").validity_years == 2
    assert policies.tier("t", date(2030, 1, 1), policy_code="x-2020").validity_years == 1
    assert policies.tier("t", date(2021, 1, 1), policy_code="x-1999").validity_years == 1


def test_an_unknown_tier_is_not_found_naming_the_field():
    policies = PolicySet([version("x-2024", "2024-01-01", [("t", 2)])])
    with pytest.raises(NotFound) as err:
        policies.tier("ghost")
    assert err.value.message == "未知的称号层级 / unknown tier: ghost"
    assert err.value.details == {"field": "tier"}
    with pytest.raises(NotFound):
        policies.tier("t", date(2023, 12, 31))


def test_a_later_version_takes_over_the_review_of_the_tier_it_names():
    policies = PolicySet([
        version("x-2020", "2020-01-01", [("a", 1), ("b", 1)]),
        version("x-2024", "2024-01-01", [("a", 2), ("b", 3)], reviews=["x-2020"]),
        version("y-2024", "2024-01-01", [("c", 4)], programme="y", reviews=["x-2020"])])
    assert policies.review_tier("b", "x-2020", date(2024, 6, 1)).policy_code == "x-2024"
    assert policies.review_tier("b", "x-2020", date(2024, 6, 1)).validity_years == 3
    assert policies.review_tier("a", "x-2020", date(2024, 6, 1)).validity_years == 2
    assert policies.review_tier("b", "x-2020", date(2023, 6, 1)).policy_code == "x-2020"
    only_a = PolicySet([version("x-2020", "2020-01-01", [("a", 1), ("b", 1)]),
                        version("x-2024", "2024-01-01", [("a", 2)], reviews=["x-2020"])])
    assert only_a.review_tier("b", "x-2020", date(2024, 6, 1)).policy_code == "x-2020"


def test_the_programmes_of_a_ladder():
    policies = PolicySet([version("x-2024", "2024-01-01", [("a", 1)], ladder="national"),
                          version("y-2024", "2024-01-01", [("b", 1)], programme="y", ladder="national"),
                          version("z-2024", "2024-01-01", [("c", 1)], programme="z")])
    assert policies.programmes_of_ladder("national") == {"x", "y"}
    assert policies.programmes_of_ladder("other") == set()


def test_the_tiers_in_force_on_a_day_by_programme_and_rank():
    second = version("x-2024", "2024-01-01", [("b", 2), ("a", 2)])
    second = Policy(**{**second.__dict__, "tiers": tuple(
        Tier(**{**t.__dict__, "rank": r}) for t, r in zip(second.tiers, (2, 1), strict=True))})
    policies = PolicySet([version("x-2020", "2020-01-01", [("a", 1)]), second,
                          version("w-2021", "2021-01-01", [("w", 1)], programme="w")])
    assert [(t.code, t.policy_code) for t in policies.current_tiers(date(2019, 12, 31))] == []
    assert [(t.code, t.policy_code) for t in policies.current_tiers(date(2020, 1, 1))] == [("a", "x-2020")]
    assert [(t.code, t.policy_code) for t in policies.current_tiers(date(2024, 1, 1))] == [
        ("w", "w-2021"), ("a", "x-2024"), ("b", "x-2024")]
    assert [(t.code, t.policy_code) for t in policies.current_tiers()] == [
        ("w", "w-2021"), ("a", "x-2024"), ("b", "x-2024")]
    assert policies.tier_codes() == {"a", "b", "w"}
