"""email: the release to press lists and subscribers, one message per recipient, each
recipient exactly once (their outcome is kept in the ledger's item journal).

Transports: `outbox` (RFC 5322 .eml files in a folder, no credentials) and `smtp`
(chanpub.channels.email.smtp). Options are the ones users write in channels.yaml.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel

from chanpub.channels.email import address_notes, list_parts, list_summary
from chanpub.channels.email.list_summary import ListSummary, summarise
from chanpub.channels.email.message import Composer, MessageParts, message_id, subject_for
from chanpub.channels.email.options import EmailOptions
from chanpub.channels.email.recipients import Invalid, Recipient, iter_recipients
from chanpub.channels.email.transport import Job, Transport, due
from chanpub.contract import (
    Amendment,
    Capabilities,
    ChannelContext,
    Links,
    Mechanism,
    Preview,
    PreviewKind,
    Receipt,
)
from chanpub.errors import PermanentError
from chanpub.i18n import _
from chanpub.journal import Part, journal_part
from chanpub.release import Release
from chanpub.render.pictures import byte_label
from chanpub.status import Status

__all__ = ["EmailChannel", "EmailOptions"]  # the options model is kept in options.py

IMAGE = "image"  # in `attach:`, the release's own image


class EmailChannel:
    """Sends one message per recipient through the configured transport."""

    channel_type: ClassVar[str] = "email"
    Options: ClassVar[type[BaseModel]] = EmailOptions
    capabilities: ClassVar[Capabilities] = Capabilities(
        title=True,
        html=True,
        images=1,
        recipients=True,
        corrections=Mechanism.NOTICE,
        retractions=Mechanism.NOTICE,
    )

    def __init__(self, name: str, options: EmailOptions, context: ChannelContext) -> None:
        self.name = name
        self.options = options
        self.context = context

    def depends_on(self) -> tuple[str, ...]:
        """Channels whose outputs are attached must publish first."""
        return tuple(name for name in self.options.attach if name != IMAGE)

    def _lists(self) -> dict[str, list[str]]:
        return {name: spec.sources for name, spec in self.options.named_lists().items()}

    def _recipients(
        self,
        invalid: list[Invalid],
        wanted: Callable[[str], bool] | None = None,
        part: Part | None = None,
        known: Callable[[list[str]], None] | None = None,
    ) -> Iterator[Recipient]:
        """The lists' recipients (those `wanted`, by key; only a batch job's `part`, whose
        keys `known` may be told first: list_parts), with the address checks earlier
        readings of the list files noted in the ledger (none without a ledger, as in a
        preview on its own)."""
        notes = self.context.run_store(address_notes.NAMESPACE)
        lists, base_dir = self._lists(), self.context.base_dir
        places = self.context.run_store(list_parts.NAMESPACE) if part is not None else None
        if part is not None and places is not None:
            return list_parts.part_recipients(
                lists, base_dir, invalid, notes, places, part, wanted=wanted, known=known
            )
        return iter_recipients(lists, base_dir, invalid, notes, wanted=wanted)

    def _summary(self) -> ListSummary:
        """How many recipients the lists have, and the first of them: kept in the ledger
        with the list files' stats, where there is a ledger (list_summary)."""
        invalid: list[Invalid] = []

        def read() -> ListSummary:
            return summarise(self._recipients(invalid), invalid)

        store = self.context.run_store(list_summary.NAMESPACE)
        return list_summary.remembered(self._lists(), self.context.base_dir, store, read)

    def check(self) -> None:
        """Fail before sending on list files that are missing or lack an email column."""
        from chanpub.channels.email.recipients import check_source

        for name, sources in self._lists().items():
            for source in sources:
                check_source(source, self.context.base_dir, f"channels.{self.name}.lists.{name}")

    # --- preview ------------------------------------------------------------------------

    def _parts(self, release: Release, links: Links) -> MessageParts:
        from chanpub.markdown import to_html, to_plain

        return MessageParts(
            subject=subject_for(release, self.options.subject_prefix),
            sender=self.options.sender,
            reply_to=self.options.reply_to,
            body_text=to_plain(release.body),
            body_html=to_html(release.body),
            url=links.canonical_url or "",
            language=release.language or self.context.language,
            organisation=self.context.organisation,
        )

    def _attachments(self, release: Release, links: Links) -> tuple[list[Path], list[str]]:
        files: list[Path] = []
        missing: list[str] = []
        for name in self.options.attach:
            if name == IMAGE:
                if release.image:
                    files.append(release.image)
                continue
            receipt = links.outputs.get(name)
            if receipt is None:
                missing.append(name)
            else:
                shared = [f for f in receipt.files if "per_recipient" not in receipt.details]
                files.extend(p for p in shared if p.suffix.lower() == ".pdf" or len(shared) == 1)
        return files, missing

    def preview(self, release: Release, links: Links) -> Preview:
        """The message a recipient gets (the first on the list), and how many get it."""
        self.check()
        parts = self._parts(release, links)
        lists = self._summary()
        sample = lists.first or Recipient("penerima@example.go.id", "")
        text_body, html_body = _bodies(release, parts, sample, self._unsubscribe(sample, release))
        files, missing = self._attachments(release, links)
        warnings = (
            [
                _("{n} invalid address(es): {addresses}").format(
                    n=lists.invalid_count, addresses=", ".join(lists.invalid)
                )
            ]
            if lists.invalid_count
            else []
        )
        warnings += [
            _("attachment from '{name}' will come from this run").format(name=m) for m in missing
        ]
        if not links.canonical_url:
            warnings.append(_("no canonical URL: the message will have no link to the article"))
        return Preview(
            channel=self.name,
            release=release,
            links=links,
            title=parts.subject,
            text=text_body,
            html=html_body,
            recipients=lists.count,
            warnings=tuple(warnings),
            attachments=tuple(files),
            kind=PreviewKind.MESSAGE,
            facts=self._facts(parts.subject, self._size(release, parts, sample, files)),
            data={
                "from": self.options.sender,
                "reply_to": self.options.reply_to,
                "transport": self.options.transport,
                "invalid": list(lists.invalid),  # the first few (list_summary.SHOWN)
            },
        )

    def _facts(self, subject: str, size: int | None) -> tuple[tuple[str, str], ...]:
        """The message's header as the preview card shows it, and its size."""
        rows = [(_("From"), self.options.sender), (_("Subject"), subject)]
        if self.options.reply_to:
            rows.append((_("Reply-To"), self.options.reply_to))
        if size is not None:  # to set against the server's limit (channels --verify)
            rows.append((_("Size"), byte_label(size)))
        return tuple(rows)

    def _size(
        self, release: Release, parts: MessageParts, recipient: Recipient, files: list[Path]
    ) -> int | None:
        """The bytes of `recipient`'s whole message, attachments encoded; None when an
        attachment cannot be read now (publishing says which)."""
        with_files = MessageParts(**{**parts.__dict__, "attachments": tuple(files)})
        try:
            composed = Composer(release, with_files, key="0" * 64).compose(
                recipient, unsubscribe=self._unsubscribe(recipient, release)
            )
        except OSError:
            return None
        return len(composed.data)

    def _unsubscribe(self, recipient: Recipient, release: Release) -> str | None:
        from urllib.parse import quote

        spec = self.options.named_lists().get(recipient.list_name)
        if spec is None or not spec.unsubscribe:
            return None
        import hashlib

        token = hashlib.sha256(f"{recipient.key}:{self.name}".encode()).hexdigest()[:24]
        return spec.unsubscribe.replace("{email}", quote(recipient.email)).replace("{token}", token)

    # --- publish ------------------------------------------------------------------------

    def _outbox_folder(self, release: Release | None) -> Path:
        assert self.options.path is not None  # checked by the options model
        folder = self.context.resolve(self.options.path)
        return folder / release.slug if release is not None else folder

    def _transport(self, release: Release | None = None, sub: str = "") -> Transport:
        """The configured transport; an outbox writes to `<path>/<slug>/<sub>`."""
        if self.options.transport == "outbox":
            from chanpub.channels.email.outbox import OutboxTransport

            return OutboxTransport(self.name, self._outbox_folder(release) / sub)
        from chanpub.channels.email.smtp import SmtpTransport

        return SmtpTransport(self.name, self.options, self.context)

    def publish(self, preview: Preview, key: str) -> Receipt:
        """Send to every recipient not yet reached; recipients already sent are skipped."""
        release = preview.release
        transport = self._transport(release)
        journal = self.context.journal(key)
        parts = self._parts(release, preview.links)
        files, missing = self._attachments(release, preview.links)
        if missing:
            raise PermanentError(
                _(
                    "{channel}: the attachment from '{names}' is not there (did that channel "
                    "publish?): nothing was sent"
                ).format(channel=self.name, names=", ".join(missing))
            )
        parts = MessageParts(**{**parts.__dict__, "attachments": tuple(files)})
        per_recipient = self._per_recipient_files(preview.links)
        invalid: list[Invalid] = []
        composer = Composer(release, parts, key=key)

        def shown(key: str) -> bool:  # a batch job's journal hides the other parts' items
            return journal.status(key) != Status.NOT_SELECTED

        narrow = getattr(journal, "narrow", None)  # a batch job's: its part's states only
        recipients = self._recipients(invalid, shown, journal_part(journal), narrow)

        def jobs() -> Iterator[Job]:
            for recipient in recipients:
                if not due(journal, recipient.key, transport):
                    continue
                extra = [per_recipient[recipient.key]] if recipient.key in per_recipient else []
                yield Job(
                    recipient,
                    composer.compose(
                        recipient,
                        unsubscribe=self._unsubscribe(recipient, release),
                        extra_attachments=extra,
                    ),
                )

        failed_before = journal.counts().get("failed", 0)
        transport.deliver(jobs(), journal, lambda event, data: self.context.report(event, **data))
        counts = journal.counts()
        return self._receipt(
            key, counts, invalid, release, new_failures=counts.get("failed", 0) - failed_before
        )

    def amend(self, preview: Preview, amendment: Amendment, key: str) -> Receipt:
        """A "[Ralat]" or "[Pencabutan]" notice to exactly the recipients who got the
        release, each threaded under the message they got; journalled under `key` like
        the first mailing, so each recipient gets each notice once across runs."""
        from chanpub.channels.email import notice

        release = preview.release
        original = notice.original_key(amendment)
        reached = self.context.delivered(original)
        transport = self._transport(release, notice.folder_name(amendment.kind, key))
        journal = self.context.journal(key)
        parts = notice.notice_parts(self._parts(release, preview.links), amendment.kind)
        values = notice.notice_values(amendment, parts.language)
        composer = Composer(release, parts, key=key, templates=notice.TEMPLATES, extra=values)
        lists = self._recipients([])
        known = notice.named(lists, {item for item, _id in reached})

        def jobs() -> Iterator[Job]:
            for item, sent_id in reached:
                if due(journal, item, transport):
                    recipient = known.get(item) or Recipient(item)
                    first = sent_id or message_id(original, item, self.options.sender)
                    unsubscribe = self._unsubscribe(recipient, release)
                    yield Job(
                        recipient,
                        composer.compose(recipient, unsubscribe=unsubscribe, replying_to=first),
                    )

        failed_before = journal.counts().get("failed", 0)
        transport.deliver(jobs(), journal, lambda event, data: self.context.report(event, **data))
        counts = journal.counts()
        return self._receipt(
            key,
            counts,
            [],
            release,
            new_failures=counts.get("failed", 0) - failed_before,
            amends=(amendment, original),
        )

    def _per_recipient_files(self, links: Links) -> Mapping[str, Path]:
        files: dict[str, Path] = {}
        for name in self.options.attach:
            receipt = links.outputs.get(name)
            if receipt is not None:
                for address, path in dict(receipt.details.get("per_recipient", {})).items():
                    files[str(address).lower()] = Path(path)
        return files

    def _receipt(
        self,
        key: str,
        counts: Mapping[str, int],
        invalid: list[Invalid],
        release: Release,
        *,
        new_failures: int = 0,
        amends: tuple[Amendment, str] | None = None,
    ) -> Receipt:
        """The mailing's receipt (see `mailing_receipt`)."""
        from chanpub.channels.email.receipt import mailing_receipt

        folder = (self._outbox_folder(release),) if self.options.transport == "outbox" else ()
        return mailing_receipt(
            self.name, key, counts, invalid, release, folder, new_failures, amends
        )

    def verify(self) -> None:
        """Check the transport (SMTP login, or that the outbox folder is writable)."""
        self._transport().verify()


def _bodies(
    release: Release, parts: MessageParts, recipient: Recipient, unsubscribe: str | None
) -> tuple[str, str]:
    from chanpub.channels.email.message import render_bodies

    return render_bodies(release, parts, recipient, unsubscribe)
