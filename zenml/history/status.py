"""Run statuses the read side reasons about, below every other history module so each can import them."""

from __future__ import annotations

#: run statuses after which a step that never started will not start any more: such steps are ``skipped``
#: (those of a ``running`` run, or of a ``deployed`` scheduler template, are still to come)
FINISHED_RUN = ("completed", "failed", "crashed")
