"""The names a person reads for a stored code, by field: one table for the roster export's columns
(registry/roster/export.py) and the trail's before/after values on the pages (registry/web/labels.py
field_value), so a code is named the same wherever it is shown.

Only fields whose codes mean the same on every record are here; a field whose codes depend on the
record (a batch's status against a title's, a change report's kind against a channel's) is named where
it is shown. A title's tier is named by the policies in force (Rules.tier_names), not by this table.
"""

from __future__ import annotations

from collections.abc import Mapping

from registry.domain.criteria_report import VERDICT_NAMES
from registry.domain.eligibility import BLOCK_NAMES
from registry.domain.holders import HOLDER_NAMES, RECORD_KIND_NAMES, SIZE_CLASS_NAMES, ZONE_TYPE_NAMES
from registry.domain.lifecycle import STATUS_NAMES

#: review levels of a recommendation (registry/pipeline/common.py LEVEL_ORDER)
LEVEL_NAMES = {"district": "区县级", "city": "市级", "province": "省级", "ministry": "部级"}
#: an opinion's decision on an application
DECISION_NAMES = {"recommend": "推荐", "return": "退回补正", "reject": "不予推荐"}
#: how a user proved the second factor
SECOND_FACTOR_NAMES = {"totp": "动态验证码", "recovery": "恢复码"}

#: field → {stored code: name}; a code missing from its field's names is shown as it is
VALUE_NAMES: Mapping[str, Mapping[str, str]] = {
    "status": {str(k): v for k, v in STATUS_NAMES.items()},  # a title's status (the roster's 状态)
    "size_class": SIZE_CLASS_NAMES,
    "holder_kind": RECORD_KIND_NAMES,
    "zone_type": ZONE_TYPE_NAMES,
    "holder": HOLDER_NAMES,
    "level": LEVEL_NAMES,
    "current_level": LEVEL_NAMES,
    "decision": DECISION_NAMES,
    "verdict": {str(k): v for k, v in VERDICT_NAMES.items()},
    "second_factor": SECOND_FACTOR_NAMES,
    "blocks": BLOCK_NAMES,  # what a ban bars
}
