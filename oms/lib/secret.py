"""The development secret key: random per checkout, kept across restarts.

Imported by settings before Django is set up, so it uses the standard library
only. A fixed key shared by every demo install would let anyone forge the
signed payment and customer links of any of them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

KEY_FILE_NAME = "secret_key"


def local_secret_key(data_dir: Path) -> str:
    """The key stored in `data_dir`, created (mode 0600) on first use."""
    path = data_dir / KEY_FILE_NAME
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        # Written whole under a temporary name (mkstemp: mode 0600), then
        # linked into place: a process starting at the same moment either
        # wins the link or reads the complete key of the one that did.
        fd, temporary = tempfile.mkstemp(dir=data_dir, prefix=".secret_key.")
        try:
            with os.fdopen(fd, "w") as key_file:
                key_file.write(secrets.token_urlsafe(50))
            with contextlib.suppress(FileExistsError):  # the other process won
                os.link(temporary, path)
        finally:
            os.unlink(temporary)
    return path.read_text().strip()
