"""The outbox transport: every message as an RFC 5322 .eml file in a folder.

Offices use it to review a mailing, or to hand the files to another mail system; it needs
no credentials and is idempotent: a file appears whole or not at all, and a file already
complete for this delivery (same Message-ID) is kept as it is, never written again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import ClassVar

from chanpub import shutdown
from chanpub.channels.email.transport import Job, Report, Stopped
from chanpub.contract import ItemJournal
from chanpub.errors import PermanentError
from chanpub.files import remove_stale_temporaries, write_atomically
from chanpub.i18n import _


def eml_name(address: str) -> str:
    """A file name for a recipient's message."""
    return re.sub(r"[^A-Za-z0-9@._+-]", "_", address.lower()) + ".eml"


HEADER_BYTES = 65536  # far more than chanpub's headers take


def written_message_id(path: Path) -> str | None:
    """The Message-ID of the .eml file at `path`, or None when there is none yet."""
    try:
        with path.open("rb") as file:
            head = file.read(HEADER_BYTES)  # the headers only, not the attachments
    except FileNotFoundError:
        return None
    headers = BytesHeaderParser().parsebytes(head)
    value = headers.get("Message-ID")
    return str(value).strip() if value is not None else None


class OutboxTransport:
    """Writes each message to `<path>/<slug>/<address>.eml`."""

    idempotent: ClassVar[bool] = True

    def __init__(self, channel: str, folder: Path) -> None:
        self.channel = channel
        self.folder = folder

    def deliver(self, jobs: Iterator[Job], journal: ItemJournal, report: Report) -> None:
        """Write every message; the file appears complete or not at all."""
        remove_stale_temporaries(self.folder)  # left by a run killed mid-write
        for sent, job in enumerate(jobs, start=1):
            if shutdown.requested():  # between files: the last one is complete and recorded
                raise Stopped(self.channel)
            journal.begin(job.item)
            path = self.folder / eml_name(job.recipient.email)
            try:
                # A run killed after the file appeared, before recording it: keep that file.
                if written_message_id(path) != job.composed.message_id:
                    write_atomically(path, job.composed.data.replace(b"\r\n", b"\n"))
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
