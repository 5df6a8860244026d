"""letter-pdf: the release as an official letter (surat dinas) on the office's letterhead,
one per recipient from a CSV (mail merge), plus one combined PDF for printing.

Service: none (local files, no credentials). PDF: fpdf2 (https://py-pdf.github.io/fpdf2/)
through chanpub.render.pdf, fonts embedded, byte-identical output for the same input.
Letter numbers come from a ledger-backed sequence (per channel and year) and are recorded
per recipient in the delivery's item journal, so a number is never given twice and a
re-run after a crash gives each recipient the number it already had.
Options: out, size (A4 | F4), letterhead (logo, lines), number_pattern, signatory
(position, name, id, signature_image), recipients (CSV), copies_to, nature, place,
attachments, language, sign (PAdES electronic signature from a PKCS#12 certificate, with
pyHanko: chanpub.render.pdf.signing). The e-mail channel attaches each recipient's own letter with
`attach: [<this channel>]` (receipt details `per_recipient`).
With the task queue (`database:`, `queue: batch:`) a long list is shared among jobs
(chanpub.batches): each numbers and writes only its part's letters, plus a combined PDF of
its own named after the place of its first letter.
Corrections and retractions (`amend`, chanpub.channels.letter_pdf.amend) send each recipient
of the original a new letter referring to it, numbered from the same sequence.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel

from chanpub.channels.letter_pdf.options import (
    ROMAN,
    SIZES,
    LetterPdfOptions,
    SignOptions,
    number_for,
)
from chanpub.channels.letter_pdf.recipients import (
    LetterRecipient,
    own_part,
    part_suffix,
    read_recipients,
)
from chanpub.contract import (
    Amendment,
    Capabilities,
    ChannelContext,
    Links,
    Mechanism,
    Preview,
    Receipt,
)
from chanpub.errors import ConfigError, PermanentError
from chanpub.files import check_writable_folder, remove_stale_temporaries, write_atomically
from chanpub.i18n import _
from chanpub.release import Release
from chanpub.render.dates import release_day
from chanpub.render.pdf.images import Picture, UnreadableImage, inspect_image
from chanpub.status import Status

if TYPE_CHECKING:
    from chanpub.render.pdf.signing import LetterSigning


class _Pending:
    """Stands for the sequence number in previews: it is drawn only when publishing."""

    def __format__(self, spec: str) -> str:
        return "…"


class LetterPdfChannel:
    """Writes one letter per recipient and a combined PDF to a folder."""

    channel_type: ClassVar[str] = "letter-pdf"
    Options: ClassVar[type[BaseModel]] = LetterPdfOptions
    capabilities: ClassVar[Capabilities] = Capabilities(
        title=True,
        recipients=True,
        corrections=Mechanism.NOTICE,  # a surat ralat to each recipient of the original
        retractions=Mechanism.NOTICE,  # a surat pencabutan
    )

    def __init__(self, name: str, options: LetterPdfOptions, context: ChannelContext) -> None:
        self.name = name
        self.options = options
        self.context = context
        self.folder = context.resolve(options.out)
        self.signing = None if options.sign is None else _signing(options.sign, context, name)

    # --- checks ---------------------------------------------------------------------------

    def check(self) -> None:
        """The recipients CSV has a name column; logo and signature image are readable."""
        self.recipients()
        self._picture(self.options.letterhead.logo, "letterhead.logo")
        self._picture(self.options.signatory.signature_image, "signatory.signature_image")
        if self.signing is not None:
            self.signing.signer()

    def _where(self, field: str) -> str:
        return f"channels.{self.name}.{field}"

    def _picture(self, option: str | None, field: str) -> Picture | None:
        if not option:
            return None
        try:
            return inspect_image(self.context.resolve(option))
        except UnreadableImage as error:
            raise ConfigError(
                _("{where}: {reason}: check the path (relative to channels.yaml)").format(
                    where=self._where(field), reason=error
                )
            ) from None

    def recipients(self) -> list[LetterRecipient]:
        """Today's recipients CSV."""
        return read_recipients(
            self.context.resolve(self.options.recipients), self._where("recipients")
        )

    # --- content ----------------------------------------------------------------------------

    def language(self, release: Release) -> str:
        """The letters' language: the option, else the release's, else the office's."""
        return self.options.language or release.language or self.context.language

    def letter(
        self,
        release: Release,
        links: Links,
        recipient: LetterRecipient,
        number: str,
        day: date | None = None,
    ) -> Any:
        """One recipient's letter, dated `day` (default: the release's date)."""
        from chanpub.markdown import to_plain
        from chanpub.render.dates import day_month_year
        from chanpub.render.pdf.letter import (
            Addressee,
            LetterContent,
            Signatory,
            letter_labels,
        )

        language = self.language(release)
        labels = letter_labels(language)
        day = day or release_day(release)
        date_text = day_month_year(day, language)
        body = to_plain(release.body)
        if links.canonical_url:
            more = "Selengkapnya: {url}" if language == "id" else "More: {url}"
            body += "\n\n" + more.format(url=links.canonical_url)
        signatory = self.options.signatory
        return LetterContent(
            number=number,
            subject=release.title,
            place_date=f"{self.options.place}, {date_text}" if self.options.place else date_text,
            addressee=Addressee(
                recipient.name, recipient.position, recipient.organisation, recipient.address
            ),
            body=body,
            letterhead=tuple(self.options.letterhead.lines),
            logo=self._picture(self.options.letterhead.logo, "letterhead.logo"),
            signatory=Signatory(
                signatory.position,
                signatory.name,
                signatory.id or "",
                self._picture(signatory.signature_image, "signatory.signature_image"),
                self.signing.statement(signatory.name) if self.signing else None,
            ),
            nature=self.options.nature or "",
            attachments=self.options.attachments,
            copies_to=tuple(self.options.copies_to),
            closing=labels["closing"],
            language=language,
            organisation=self.context.organisation,
            created=day,
            keywords=tuple(release.tags),
        )

    def paths(self, release: Release, suffix: str = "", part: str = "") -> tuple[Path, Path, Path]:
        """The combined PDF, its thumbnail and the folder of single letters (the same
        folder for every `part` of a shared list, see `part_suffix`)."""
        base = f"{release.slug}-{self.name}{suffix}"
        combined = f"{base}{part}"
        folder = self.folder
        return (folder / f"{combined}.pdf", folder / f"{combined}.png", folder / base)

    def preview(self, release: Release, links: Links) -> Preview:
        """The first recipient's letter as text (its number is drawn only when sending)."""
        from chanpub.render.pdf.fonts import missing_glyphs

        self.check()
        recipients = self.recipients()
        pending = self.options.number_pattern.format(
            seq=_Pending(),
            year=release_day(release).year,
            month=release_day(release).month,
            month_roman=ROMAN[release_day(release).month - 1],
            day=release_day(release).day,
        )
        letter = self.letter(release, links, recipients[0], pending)
        text = "\n".join(
            [
                letter.number,
                letter.place_date,
                letter.addressee.name,
                letter.subject,
                "",
                letter.body,
                "",
                letter.closing,
                "",
                letter.signatory.position,
                letter.signatory.name,
            ]
        )
        warnings = []
        missing = missing_glyphs(text + " ".join(r.name + r.organisation for r in recipients))
        if missing:
            warnings.append(
                _("the font has no glyphs for {chars}: they will print as boxes").format(
                    chars=missing
                )
            )
        return Preview(
            channel=self.name,
            release=release,
            links=links,
            title=release.title,
            text=text,
            length=len(text),
            recipients=len(recipients),
            warnings=tuple(warnings),
            data={
                "size": self.options.size,
                "number": pending,
                "files": [str(path) for path in self.paths(release)],
            },
        )

    # --- publish ----------------------------------------------------------------------------

    def numbers(self, recipients: list[LetterRecipient], key: str, day: date) -> dict[str, str]:
        """Each recipient's letter number: the one the journal of the delivery `key`
        recorded, else a new one from the sequence of `day`'s year. Recipients the journal
        hides are left out: when the task queue shares a long list among workers, each
        job numbers and writes only its own part's letters."""
        if self.context.sequence is None:
            raise PermanentError(
                _("{channel}: letter numbers need the ledger; run 'chanpub send'").format(
                    channel=self.name
                )
            )
        journal = self.context.journal(key)
        numbers: dict[str, str] = {}
        for recipient in recipients:
            status = journal.status(recipient.key)
            if status == Status.NOT_SELECTED:  # another part's (chanpub.batches): not ours
                continue
            given = journal.remote_id(recipient.key) if status == Status.SENT else None
            if given is None:
                journal.begin(recipient.key)
                seq = self.context.sequence.next(f"letter-pdf:{self.name}", str(day.year))
                given = number_for(self.options.number_pattern, seq, day)
                journal.sent(recipient.key, remote_id=given)
            numbers[recipient.key] = given
        return numbers

    def publish(self, preview: Preview, key: str) -> Receipt:
        """Number the letters, render them, and write each PDF whole."""
        self.check()
        release = preview.release
        recipients = self.recipients()
        day = release_day(release)
        numbers = self.numbers(recipients, key, day)
        mine = own_part(recipients, numbers)
        letters = [self.letter(release, preview.links, r, numbers[r.key]) for _n, r in mine]
        paths = self.paths(release, part=part_suffix(mine, recipients))
        receipt = self.write(paths, mine, letters, numbers)
        return replace(receipt, details={**receipt.details, "dated": day.isoformat()})

    def amend(self, preview: Preview, amendment: Amendment, key: str) -> Receipt:
        """A correction letter (surat ralat) or a withdrawal letter (surat pencabutan) to
        each recipient of the original: Action.SENT (see chanpub.channels.letter_pdf.amend)."""
        from chanpub.channels.letter_pdf.amend import amend_letters

        return amend_letters(self, preview, amendment, key)

    def write(
        self,
        paths: tuple[Path, Path, Path],
        mine: list[tuple[int, LetterRecipient]],
        letters: list[Any],
        numbers: dict[str, str],
    ) -> Receipt:
        """Write each letter whole (named by its recipient's place in the list), then the
        combined PDF and its thumbnail."""
        from chanpub.render.pdf.raster import page_png

        size = SIZES[self.options.size]
        combined_path, thumbnail_path, folder = paths
        if not mine:  # a part of a shared list that no recipient hashed to: nothing to write
            empty = {"letters": 0, "numbers": {}, "per_recipient": {}}
            url = folder.resolve().as_uri()
            return Receipt(folder.name, url, published_at=datetime.now(UTC), details=empty)
        written: list[Path] = []
        per_recipient: dict[str, str] = {}
        try:
            for used in (self.folder, folder):  # left by a run killed mid-write
                remove_stale_temporaries(used)
            for (place, recipient), letter in zip(mine, letters, strict=True):
                path = folder / f"{place:03d}-{_file_name(recipient.name)}.pdf"
                write_atomically(path, self._render(path, [letter], size, visible=True))
                written.append(path)
                if recipient.email:
                    per_recipient[recipient.email.lower()] = str(path)
            combined = self._render(combined_path, letters, size, visible=False)
            write_atomically(combined_path, combined)
            write_atomically(thumbnail_path, page_png(combined, 800))
        except OSError as error:
            raise PermanentError(
                _(
                    "{channel}: cannot write to {path}: {reason}: check the "
                    "folder in channels.{channel}.out"
                ).format(channel=self.name, path=self.folder, reason=error.strerror)
            ) from None
        digest = hashlib.sha256(combined).hexdigest()
        given = {r.email.lower() or r.name: numbers[r.key] for _n, r in mine}
        details: dict[str, Any] = {
            "path": str(combined_path),
            "letters": len(letters),
            "sha256": digest,
            "numbers": given,
            "per_recipient": per_recipient,
        }
        return Receipt(
            remote_id=digest[:16],
            url=combined_path.resolve().as_uri(),
            published_at=datetime.now(UTC),
            details=details,
            files=(combined_path, thumbnail_path, *written),
            numbers=given,
        )

    def _render(
        self, path: Path, letters: list[Any], size: tuple[float, float], *, visible: bool
    ) -> bytes:
        """The PDF of `letters`, signed when `sign:` is set (see LetterSigning.sign)."""
        from chanpub.render.pdf.letter import render_letters_marked

        unsigned, spots = render_letters_marked(letters, size)
        if self.signing is None:
            return unsigned
        return self.signing.sign(path, unsigned, spots[0] if visible else None, size[1])

    def verify(self) -> None:
        """Recipients, pictures and the output folder are usable."""
        self.check()
        check_writable_folder(self.name, self.folder)


def _signing(sign: SignOptions, context: ChannelContext, name: str) -> LetterSigning:
    """The signing settings of `sign:` (nothing is read until a letter is signed)."""
    from chanpub.render.pdf.signing import LetterSigning, SignSettings

    return LetterSigning(
        SignSettings(
            pkcs12=context.resolve(sign.pkcs12),
            password=sign.password.get_secret_value(),
            reason=sign.reason,
            location=sign.location,
            where=f"channels.{name}.sign",
        )
    )


def _file_name(name: str) -> str:
    """A safe file name part from a recipient's name."""
    from chanpub.release import slugify

    return slugify(name)[:40] or "penerima"
