"""Races for the concurrency tests: several threads released at once, and one committed unit of work each.

`race` is the scaffolding every race test shares (a barrier, a thread per racer, joined, every
racer accounted for); what a racer does and what its outcome must be stay in the test, so a race
that lets two winners through still fails its test.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

Entry = TypeVar("Entry")


def race(run: Callable[[Entry], Any], entries: Sequence[Entry], *, failed: Callable[[Exception], Any] = repr,
         timeout: float = 60) -> list[Any]:
    """Call `run(entry)` for every entry, each in its own thread, all released together; return the outcomes.

    The outcomes come in the order the racers finished. A racer that raises leaves `failed(exc)` as its
    outcome (by default its repr), so the test's assertion shows what went wrong. Every racer must finish
    within `timeout` seconds of the start.
    """
    start, outcomes = threading.Barrier(len(entries)), []

    def racer(entry: Entry) -> None:
        start.wait(timeout=30)  # before any transaction: SQLite's writer lock is taken at BEGIN
        try:
            outcomes.append(run(entry))
        except Exception as exc:  # noqa: BLE001  reported by the test's assertion
            outcomes.append(failed(exc))

    threads = [threading.Thread(target=racer, args=(entry,)) for entry in entries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert len(outcomes) == len(entries), "a racer did not finish"
    return outcomes


def committed(factory: sessionmaker[Session], work: Callable[[Session], Any], done: str,
              refused: type[Exception] | tuple[type[Exception], ...] = (),
              says: Callable[[Exception], str] = repr) -> str:
    """Run `work(session)` in a transaction of its own and commit it: `done`; or, rolled back, what `says`
    makes of a `refused` error. Any other error propagates (to `race`, which reports it)."""
    with factory() as session:
        try:
            work(session)
            session.commit()
            return done
        except refused as exc:
            session.rollback()
            return says(exc)
