"""Mastodon's count, read from its StatusLengthValidator (app/validators/status_length_validator.rb,
https://github.com/mastodon/mastodon): grapheme clusters of the text after every URL the
extractor finds becomes 23 characters and every `@user@domain` becomes `@user`. URLs need
a protocol there and follow config/initializers/twitter_regex.rb; the expected numbers are
worked out by hand from those rules (no Mastodon runs here)."""

from __future__ import annotations

import pytest

from chanpub.channels.mastodon_text import count_mastodon


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pemkot Surakarta", 16),
        ("👩‍👩‍👧‍👦🏳️‍🌈🧑🏽‍🚒🐦‍🔥🇮🇩1️⃣", 6),  # graphemes, newest emoji included
        ("ꦱꦸꦫꦏꦂꦠ", 4),  # Javanese: the pangkon and sandhangan join their consonant
        ("Lihat https://example.com/siaran/sangat-panjang-sekali-sekali.html ya", 6 + 23 + 3),
        ("Baca https://id.wikipedia.org/wiki/Jawa_(pulau) dulu", 5 + 23 + 5),  # ')' is in it
        ("(https://id.wikipedia.org/wiki/Jawa)", 1 + 23 + 1),  # an unopened ')' is not
        ("https://example.com/berita.", 23 + 1),  # nor a closing full stop
        ("https://example.invalidtld/berita", 33),  # no known TLD: not a link, counted in full
        ("kominfo.go.id dan www.example.com", 33),  # no protocol: counted in full
        ("Halo @humas@mastodon.social!", 12),  # @user@domain counts as @user
        ("Halo @humas dan email@humas@example.com", 39),  # after a word char: not a mention
    ],
)
def test_count_mastodon_follows_the_status_length_validator(text: str, expected: int) -> None:
    assert count_mastodon(text) == expected
