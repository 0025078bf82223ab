"""The mail server of the fault tests: every message a worker sends becomes
one file in FAULT_MAILBOX_DIR. With FAULT_MAIL_PAUSE_DIR set, a worker that
is about to send writes `paused-<pid>` there and waits for a `release` file,
so a test can kill it at that exact point."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


class MailboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        pause_dir = os.environ.get("FAULT_MAIL_PAUSE_DIR")
        if pause_dir:
            (Path(pause_dir) / f"paused-{os.getpid()}").touch()
            while not (Path(pause_dir) / "release").exists():
                time.sleep(0.05)
        mailbox = Path(os.environ["FAULT_MAILBOX_DIR"])
        for message in email_messages:
            name = f"{time.time_ns()}-{os.getpid()}-{uuid.uuid4().hex}"
            # Written then renamed: a reader never sees half a message.
            partial = mailbox / f".{name}.tmp"
            partial.write_bytes(message.message().as_bytes())
            partial.rename(mailbox / f"{name}.eml")
        return len(email_messages)
