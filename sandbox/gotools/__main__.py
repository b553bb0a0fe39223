"""``python -m sandbox.gotools build|list``: compile the sandbox's Go programs (see build.py)."""

from __future__ import annotations

import sys

from .build import main

sys.exit(main())
