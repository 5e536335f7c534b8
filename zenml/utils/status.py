"""Run and step statuses, the one vocabulary the store records and everything else reads; and the heartbeat.

They are ``StrEnum`` members, so each compares equal to the string stored in the metadata store and
prints as it (``f"{RunStatus.COMPLETED}"`` is ``completed``): records, JSON output and old stores
are unchanged. They live here, in the lowest layer, because steps (which may not import the store)
and the store itself both need them. The heartbeat interval and the silence after which a run counts
as crashed live beside them, the second derived from the first.
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """What became of a run."""

    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    #: its process died (killed, or its machine stopped): found by its stale heartbeat
    CRASHED = "crashed"
    #: a schedule's template: the orchestrator installed the pipeline instead of running it
    DEPLOYED = "deployed"


class StepStatus(StrEnum):
    """What became of one step of a run."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    #: served from an earlier run's outputs (the cache)
    CACHED = "cached"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    #: not run: an upstream step failed (or the run stopped first)
    SKIPPED = "skipped"
    CRASHED = "crashed"


#: runs that will not change any more: a step of one that never started will not start any more (it is
#: ``skipped``); those of a ``running`` run, or of a ``deployed`` scheduler template, are still to come
FINISHED_RUN = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CRASHED})
#: steps a live process will still change; a crashed run's steps in these are crashed too
UNFINISHED_STEP = frozenset({StepStatus.RUNNING, StepStatus.PENDING})
#: steps whose outputs exist (run now, or served from the cache)
SUCCEEDED_STEP = frozenset({StepStatus.COMPLETED, StepStatus.CACHED})
#: steps that ended in an error
FAILED_STEP = frozenset({StepStatus.FAILED, StepStatus.TIMED_OUT, StepStatus.CRASHED})
#: steps whose own attempt ended in an error (its code raised, or it ran out of time); unlike a
#: ``crashed`` step, whose process died and which only the integrity check records
ERRORED_STEP = frozenset({StepStatus.FAILED, StepStatus.TIMED_OUT})
#: steps an attempt has ended, in success or in its own error
ENDED_STEP = SUCCEEDED_STEP | ERRORED_STEP

#: how often a run's driving process refreshes the run's heartbeat while it executes
HEARTBEAT_SECONDS = 10.0
#: seconds without a heartbeat after which a run's owner counts as gone (its run is ``crashed``):
#: six missed heartbeats, so a busy or briefly suspended process is not declared dead
STALE_AFTER_SECONDS = 6 * HEARTBEAT_SECONDS

__all__ = [
    "ENDED_STEP",
    "ERRORED_STEP",
    "FAILED_STEP",
    "FINISHED_RUN",
    "HEARTBEAT_SECONDS",
    "STALE_AFTER_SECONDS",
    "SUCCEEDED_STEP",
    "UNFINISHED_STEP",
    "RunStatus",
    "StepStatus",
]
