"""The 待办 page and the count beside it in the navigation (issue 18 point 2)."""

from __future__ import annotations

from flask import g, render_template

from registry.accounts.access import current_actor, requires
from registry.domain.actors import Action, can
from registry.platform.extensions import get_session
from registry.todo.services import GROUPS, todo_list
from registry.web.pages import bp
from registry.web.pages.flow import rules, today


def current_todo() -> list:
    """The signed-in actor's to-do list, computed once per request (the page and the menu share it)."""
    if "todo" not in g:
        actor = g.get("actor")
        g.todo = todo_list(get_session(), actor, rules(), today()) if actor and can(actor, Action.WRITE) else []
    return g.todo


@bp.app_template_global("todo_count")
def todo_count() -> int:
    """How many items the menu's 待办 shows (0 for roles with nothing to act on)."""
    return len(current_todo())


@bp.get("/todo")
@requires(Action.READ)
def todo():
    """Everything the signed-in user must act on, most pressing first, each with a link to act."""
    items = current_todo()
    groups = [(code, name, [i for i in items if i.group == code]) for code, name in GROUPS.items()]
    return render_template("todo.html", groups=[g_ for g_ in groups if g_[2]], total=len(items), today=today(),
                           may_act=can(current_actor(), Action.WRITE))
