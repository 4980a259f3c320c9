"""Analysis views over ``events`` (page_views, sessions, ...).

Placeholder until the analyses land: ``create_views`` adds nothing yet.
"""

from __future__ import annotations

from typing import Any


def create_views(con: Any) -> None:
    """Create the analysis views on a connection that has ``events``."""
    return None
