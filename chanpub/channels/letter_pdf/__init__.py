"""letter-pdf: the release as an official letter (surat dinas), one per recipient. The
adapter is chanpub.channels.letter_pdf.channel.LetterPdfChannel."""

from __future__ import annotations

from chanpub.channels.letter_pdf.channel import LetterPdfChannel
from chanpub.channels.letter_pdf.options import LetterPdfOptions, number_for
from chanpub.channels.letter_pdf.recipients import LetterRecipient

__all__ = ["LetterPdfChannel", "LetterPdfOptions", "LetterRecipient", "number_for"]
