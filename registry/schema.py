"""The whole schema: every feature's models imported, so `Base.metadata` is complete.

Alembic (migrations/env.py), `init-db`, the application factory and the tests import this module;
features import only the models they use (`registry.<feature>.models`). SQLAlchemy resolves the
relationships between features by class name once every model below is imported.
"""

from __future__ import annotations

from registry.accounts import models as accounts
from registry.audit import models as audit
from registry.channels import models as channels
from registry.enterprises import models as enterprises
from registry.pipeline import models as pipeline
from registry.platform.db import Base
from registry.policies import models as policies
from registry.proposals import models as proposals
from registry.regions import models as regions
from registry.reminders import models as reminders
from registry.roster import models as roster
from registry.runs import models as runs
from registry.titles import models as titles

FEATURE_MODELS = (accounts, audit, channels, enterprises, runs, pipeline, policies, proposals, regions, reminders, roster, titles)
metadata = Base.metadata

__all__ = ["FEATURE_MODELS", "Base", "metadata"]
