"""Policy files: the shipped numbers, and a clear refusal of every kind of malformed file."""

import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from registry.domain.errors import PolicyError
from registry.domain.policy import load_policies, load_policy_file, parse_period, parse_policy
from tests.conftest import ROOT, d

MINIMAL = """
[policy]
code = "x-2026"
programme = "x"
name = "X"
document_no = "X〔2026〕1号"
effective_from = 2026-01-01
source = "test"

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


def test_every_shipped_file_loads(policies):
    assert {p.code for p in policies.policies} == {
        "national-2013", "national-2018", "national-2022", "single-champion-2016", "single-champion-2021",
        "single-champion-2023", "zhejiang-hidden-champion-2016", "sichuan-specialized-2021",
        # issue 17: the yearly lists and pools of the seeds
        "zhejiang-key-little-giant-2021", "zhejiang-eagle-2019", "green-factory-2024", "chongqing-leading-2021",
        # issue 17: the zone programmes of seed 000
        "cooperation-zone-2024", "quality-brand-zone-2024"}


def test_national_numbers(policies):
    for code in ("innovative_sme", "specialized_sme", "little_giant"):
        tier = policies.tier(code, d("2024-01-01"))
        assert (tier.validity, tier.validity_years) == ("fixed_term", 3)
        assert tier.annual_update_due == (4, 30)
        assert tier.missed_annual_update == "lose_review_eligibility"
        assert (tier.change_deadline.amount, tier.change_deadline.unit) == (3, "months")
        fraud = tier.reason("fraud")
        assert (fraud.ban_years, fraud.scope) == (3, "all_tiers")
        assert tier.reason("major_accident").ban_years == 3
    assert policies.tier("specialized_sme").prerequisites[0].any_of == ("innovative_sme",)
    giant = policies.tier("little_giant")
    assert "specialized_sme" in giant.prerequisites[0].any_of
    assert "single_champion" in giant.excluded_if_holding
    assert giant.authority == "ministry" and giant.requires_audit_code


def test_single_champion_numbers(policies):
    tier = policies.tier("single_champion", d("2024-01-01"))
    assert tier.prerequisites[0].when_revenue_at_most == Decimal(400_000_000)
    assert tier.prerequisites[0].any_of == ("little_giant",)
    assert tier.missed_review == "revoke" and tier.downgrades_to == "champion_product"


def test_provincial_numbers(policies):
    zj = policies.tier("zj_hidden_champion")
    assert zj.annual_update_due == (3, 31) and zj.failed_review == "revoke"
    sc = policies.tier("sc_specialized_sme")
    assert sc.validity_years == 3 and sc.programme == "sichuan_specialized"


def test_tier_before_its_policy_is_unknown(policies):
    from registry.domain.errors import NotFound

    with pytest.raises(NotFound):  # the programme began with the first batch of 2016 (105号)
        policies.tier("single_champion", d("2016-03-15"))


def write(tmp_path: Path, text: str, name: str = "x-2026.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("old", "new", "key", "problem"), [
    ('years = 3', 'years = "three"', "tiers[0].validity.years", "expected a whole number"),
    ('semantics = "fixed_term"', 'semantics = "forever"', "tiers[0].validity.semantics", "must be one of"),
    ('missed = "expire"', 'missed = "explode"', "tiers[0].review.missed", "must be one of"),
    ('authority = "province"', 'authority = "village"', "tiers[0].authority", "must be one of"),
    ('rank = 1', 'rank = -1', "tiers[0].rank", "positive"),
    ('rank = 1', 'rnak = 1', "tiers[0].rank", "missing"),
    ('effective_from = 2026-01-01', 'effective_from = "soon"', "policy.effective_from", "date"),
    ('years = 3', 'years = 3\ncolour = "red"', "tiers[0].validity.colour", "unknown key"),
])
def test_malformed_file_names_file_key_and_problem(tmp_path, old, new, key, problem):
    assert old in MINIMAL
    with pytest.raises(PolicyError) as err:
        load_policy_file(write(tmp_path, MINIMAL.replace(old, new, 1)))
    assert err.value.file == "x-2026.toml"
    assert err.value.key == key
    assert problem in err.value.problem


def test_syntax_error_is_named(tmp_path):
    with pytest.raises(PolicyError) as err:
        load_policy_file(write(tmp_path, MINIMAL + "\n[[tiers]\n"))
    assert err.value.key == "(syntax)" and "x-2026.toml" in str(err.value)


def test_bad_period_and_month_day(tmp_path):
    text = MINIMAL + '[tiers.major_change]\ndeadline = "soon"\nmissed = "flag"\n'
    with pytest.raises(PolicyError) as err:
        load_policy_file(write(tmp_path, text))
    assert err.value.key == "tiers[0].major_change.deadline"
    text = MINIMAL + '[tiers.annual_update]\ndue = "13-45"\nmissed = "flag"\n'
    with pytest.raises(PolicyError) as err:
        load_policy_file(write(tmp_path, text))
    assert err.value.key == "tiers[0].annual_update.due"


def test_unknown_tier_reference_and_file_name_mismatch(tmp_path):
    text = MINIMAL + '[[tiers.prerequisites]]\nany_of = ["ghost"]\n'
    write(tmp_path, text)
    with pytest.raises(PolicyError) as err:
        load_policies(tmp_path)
    assert "ghost" in err.value.problem
    (tmp_path / "x-2026.toml").unlink()
    write(tmp_path, MINIMAL, "other.toml")
    with pytest.raises(PolicyError) as err:
        load_policies(tmp_path)
    assert err.value.key == "policy.code"


def test_defaults_are_merged_under_each_tier():
    data = tomllib.loads((ROOT / "config/policies/national-2022.toml").read_text(encoding="utf-8"))
    policy = parse_policy("national-2022.toml", data)
    giant = next(t for t in policy.tiers if t.code == "little_giant")
    assert giant.review_chain[-1] == "ministry"
    assert next(t for t in policy.tiers if t.code == "innovative_sme").review_chain[-1] == "province"


@pytest.mark.parametrize(("text", "amount", "unit"), [
    ("3 months", 3, "months"), ("30 working days", 30, "working_days"), ("30个工作日", 30, "working_days"),
    ("3个月", 3, "months"), ("10 days", 10, "days")])
def test_periods_parse(text, amount, unit):
    period = parse_period(text)
    assert (period.amount, period.unit) == (amount, unit)


@pytest.mark.parametrize("text", ["", "months", "0 months", "3 fortnights", "-3 months"])
def test_bad_periods_refused(text):
    with pytest.raises(ValueError, match="expected"):
        parse_period(text)


def test_review_timing_defaults_to_before_expiry_and_after_expiry_needs_its_days(tmp_path):
    tier = load_policy_file(write(tmp_path, MINIMAL)).tiers[0]
    assert (tier.review_timing, tier.review_after_expiry_days) == ("before_expiry", None)
    after = MINIMAL.replace('missed = "expire"', 'missed = "expire"\ntiming = "after_expiry"\nafter_expiry_days = 60')
    tier = load_policy_file(write(tmp_path, after)).tiers[0]
    assert (tier.review_timing, tier.review_after_expiry_days) == ("after_expiry", 60)
    with pytest.raises(PolicyError) as err:
        load_policy_file(write(tmp_path, MINIMAL.replace('missed = "expire"', 'missed = "expire"\ntiming = "after_expiry"')))
    assert err.value.key == "tiers[0].review.after_expiry_days"
    with pytest.raises(PolicyError):
        load_policy_file(write(tmp_path, MINIMAL.replace('missed = "expire"', 'missed = "expire"\ntiming = "later"')))
