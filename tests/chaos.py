"""How hard the adversarial tests push: a short run in the suite, a long one on demand.

``python3 dev.py test`` (and CI) runs every adversarial test briefly;
``python3 dev.py chaos`` runs only them (``-m chaos``) with ``PATRON_CHAOS=long``,
where each one repeats its attack for as long as :func:`scale` says.
"""

from __future__ import annotations

import os

LONG = os.environ.get("PATRON_CHAOS", "").lower() == "long"


def scale(short: int, long: int) -> int:
    """``short`` in the ordinary suite, ``long`` under ``python3 dev.py chaos``."""
    return long if LONG else short
