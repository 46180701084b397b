"""The cultivation pipeline: candidate pools, batches, applications up the chain, publicity, objections.

Each use case takes the session, an explicit actor and clock, records an audit event, flushes and
never commits; the SPEC §5 pipeline endpoints are thin wrappers over these functions:

    POST /pools/run                      run_pool            GET /pools/{id}  get_pool, pool_members
    POST /pools/{id}/rerun               rerun_pool          GET /pools/{id}/verdicts  pool_verdicts
    POST /batches                        create_batch        (pool members: add_candidate, remove_candidate)
    POST /batches/{id}/applications      apply
    POST /applications/{id}/opinions     record_opinion
    POST /applications/{id}/resubmission resubmit            (after a return for correction)
    POST /batches/{id}/publicity         start_publicity
    POST /batches/{id}/objections        file_objection
    POST /objections/{id}/resolution     resolve_objection
    POST /objections/{id}/correction     correct_objection (a mistaken entry, with a reason)
    POST /objections/{id}/withdrawal     withdraw_objection (a mistaken entry: 已撤回, with a reason)
    POST /batches/{id}/finalise          finalise_batch      (board: quota_usage)

Each write with consequences has a `plan_*` twin that runs the same checks and says what the
change will do without writing: the pages show it before the officer confirms.
"""

from registry.pipeline.applications import (
    OpinionPlan,
    QuotaSlot,
    ResubmissionPlan,
    apply,
    get_application,
    held_slots,
    plan_opinion,
    plan_resubmission,
    quota_holders,
    quota_usage,
    record_opinion,
    resubmit,
    withdraw_application,
)
from registry.pipeline.batches import (
    FinalisePlan,
    PublicityPlan,
    Settlement,
    create_batch,
    finalise_batch,
    plan_finalise,
    plan_publicity,
    start_publicity,
)
from registry.pipeline.common import acting_level, chain_for, get_batch, get_pool
from registry.pipeline.facts import facts_for, judge
from registry.pipeline.objections import (
    CorrectionPlan,
    ResolutionPlan,
    correct_objection,
    file_objection,
    get_objection,
    plan_objection_correction,
    plan_objection_withdrawal,
    plan_resolution,
    public_view,
    resolve_objection,
    withdraw_objection,
)
from registry.pipeline.pools import (
    add_candidate,
    enterprise_verdicts,
    pool_members,
    pool_verdicts,
    remove_candidate,
    rerun_pool,
    roster_for,
    run_pool,
)

__all__ = [
    "FinalisePlan", "OpinionPlan", "PublicityPlan", "QuotaSlot", "ResolutionPlan", "ResubmissionPlan", "Settlement",
    "acting_level", "add_candidate", "apply", "chain_for", "create_batch", "enterprise_verdicts", "facts_for", "file_objection", "CorrectionPlan", "correct_objection",
    "plan_objection_correction", "plan_objection_withdrawal", "withdraw_objection",
    "finalise_batch", "get_application", "get_batch", "get_objection", "get_pool", "held_slots", "judge",
    "withdraw_application",
    "plan_finalise", "plan_opinion", "plan_publicity", "plan_resolution", "plan_resubmission", "pool_members",
    "pool_verdicts", "rerun_pool",
    "public_view", "quota_holders", "quota_usage", "record_opinion", "remove_candidate", "resolve_objection",
    "resubmit", "roster_for", "run_pool", "start_publicity",
]
