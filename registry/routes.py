"""Every feature's API resources and pages, imported so their routes register on the two blueprints.

The blueprints live in the web kit (`registry.web.api.bp`, `registry.web.pages.bp`); the features add
their routes to them; the application factory imports this module before it registers the blueprints.
Endpoint names stay `api.<view>` and `pages.<view>` whatever folder a view lives in.
"""

from __future__ import annotations

from registry.accounts import admin_api, admin_pages, second_factor_pages, security_pages
from registry.accounts import api as accounts_api
from registry.accounts import pages as accounts_pages
from registry.audit import api as audit_api
from registry.audit import pages as audit_pages
from registry.channels import api as channels_api
from registry.channels import pages as channels_pages
from registry.dashboard import pages as dashboard_pages
from registry.enterprises import api as enterprises_api
from registry.enterprises import pages as enterprises_pages
from registry.enterprises import report_pages
from registry.pipeline import api_batches, api_pools, page_actions, page_board
from registry.pipeline import pages as pipeline_pages
from registry.policies import api as policies_api
from registry.policies import pages as policies_pages
from registry.printing import pages as printing_pages
from registry.proposals import api as proposals_api
from registry.proposals import pages as proposals_pages
from registry.reminders import api as reminders_api
from registry.reminders import pages as reminders_pages
from registry.roster import api as roster_api
from registry.roster import api_namelists, import_pages, namelist_pages
from registry.roster import pages as roster_pages
from registry.titles import api as titles_api
from registry.titles import pages as titles_pages
from registry.todo import pages as todo_pages
from registry.web.api import meta

MODULES = (printing_pages, accounts_api, accounts_pages, second_factor_pages, security_pages, admin_api, admin_pages, proposals_api, proposals_pages, audit_api, audit_pages, channels_api, channels_pages, dashboard_pages, enterprises_api, enterprises_pages,
           report_pages, api_batches, api_pools, page_actions, page_board, pipeline_pages, policies_api, policies_pages, reminders_api,
           reminders_pages, roster_api, import_pages, api_namelists, namelist_pages, roster_pages, titles_api, titles_pages, todo_pages, meta)
