"""The outbox transport: every message as an RFC 5322 .eml file in a folder.

Offices use it to review a mailing, or to hand the files to another mail system; it needs
no credentials and is idempotent (a file is rewritten, never duplicated).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from chanpub import shutdown
from chanpub.channels.base import ItemJournal
from chanpub.channels.email.transport import Job, Report, Stopped
from chanpub.errors import PermanentError
from chanpub.i18n import _
from chanpub.render.files import write_atomically


def eml_name(address: str) -> str:
    """A file name for a recipient's message."""
    return re.sub(r"[^A-Za-z0-9@._+-]", "_", address.lower()) + ".eml"


class OutboxTransport:
    """Writes each message to `<path>/<slug>/<address>.eml`."""

    idempotent: ClassVar[bool] = True

    def __init__(self, channel: str, folder: Path) -> None:
        self.channel = channel
        self.folder = folder

    def deliver(self, jobs: Iterator[Job], journal: ItemJournal, report: Report) -> None:
        """Write every message; the file appears complete or not at all."""
        for sent, job in enumerate(jobs, start=1):
            if shutdown.requested():  # between files: the last one is complete and recorded
                raise Stopped(self.channel)
            journal.begin(job.item)
            try:
                write_atomically(
                    self.folder / eml_name(job.recipient.email),
                    job.composed.data.replace(b"\r\n", b"\n"),
                )
            except OSError as error:
                raise PermanentError(
                    _("{channel}: cannot write to {path}: {reason}").format(
                        channel=self.channel, path=self.folder, reason=error.strerror
                    )
                ) from None
            journal.sent(job.item, job.composed.message_id)
            report("progress", {"sent": sent})

    def verify(self) -> None:
        """The outbox folder can be written."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise PermanentError(
                _("{channel}: cannot create {path}: {reason}").format(
                    channel=self.channel, path=self.folder, reason=error.strerror
                )
            ) from None
