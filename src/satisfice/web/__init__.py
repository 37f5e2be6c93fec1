"""Read-only web dashboard over the store: market insights, catalog, evals, gateway and pipeline pages.

``create_app(read_only_store(url), token=...)`` gives the ASGI app that ``satisfice web`` serves.
"""

from satisfice.web.app import PAGES, create_app
from satisfice.web.readonly import read_only_store

__all__ = ["PAGES", "create_app", "read_only_store"]
