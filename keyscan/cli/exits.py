"""Exit codes: the contract with shells, CI and pre-commit.

0 clean, 1 findings, 2 usage/config error or an incomplete scan, 3 internal error, 130 interrupted.
"""

from __future__ import annotations

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
