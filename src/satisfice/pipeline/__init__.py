"""The living catalog: fetch price and model sources on demand or on a schedule, keep what changed.

Library functions return the JSON-able documents the CLI prints with ``--json``:

- :func:`run` — one run over the chosen sources (``satisfice pipeline run``);
- :func:`status` — last run and next run (``satisfice pipeline status``);
- :func:`changes` — what changed since a time (``satisfice pipeline changes``);
- :func:`add_watch`, :func:`list_watches` — watched bars (``satisfice market watch``).
"""

from satisfice.pipeline.lock import PipelineBusy
from satisfice.pipeline.runner import run
from satisfice.pipeline.schedule import Schedule, run_scheduled
from satisfice.pipeline.sources import SOURCES, parse_selection
from satisfice.pipeline.views import changes, parse_span, status
from satisfice.pipeline.watches import add_watch, list_watches, newly_satisfied, remove_watch

__all__ = ["SOURCES", "PipelineBusy", "Schedule", "add_watch", "changes", "list_watches",
           "newly_satisfied", "parse_selection", "parse_span", "remove_watch", "run", "run_scheduled", "status"]
