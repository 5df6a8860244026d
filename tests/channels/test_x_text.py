"""X's weighted length as twitter-text v3 computes it (values checked against twitter-text
3.1.0's `parseTweet(text).weightedLength`; the larger table is test_counting_table.py)."""

from __future__ import annotations

import pytest

from chanpub.channels.x_text import count_x


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pemkot buka layanan", 19),  # Latin and Indonesian: 1 each
        ("日本語", 6),  # CJK: 2 each
        ("“kutipan” — pisah", 17),  # typographic quotes and dashes are in the light ranges
        ("…", 2),  # U+2026 is outside them
        ("e\u0301", 1),  # NFC first: e + combining acute is one code point
        ("👍🏽", 2),  # emoji with skin tone: 2 in all
        ("👨\u200d👩\u200d👧", 2),  # ZWJ family: 2 in all
        ("🇮🇩", 2),  # flag
        ("1\ufe0f\u20e3", 2),  # keycap sequence
        ("⚠️ Hoaks", 8),
        ("Lihat https://kominfo.example.go.id/siaran/sangat-panjang-sekali.html ya", 32),
        ("Kunjungi kominfo.go.id sekarang", 41),  # a bare domain is a link too
        ("email humas@kominfo.go.id", 25),  # an e-mail address is not
        ("jam 10.00 WIB", 13),
        ("Rp10.000", 8),
    ],
)
def test_count_x_matches_twitter_text(text: str, expected: int) -> None:
    assert count_x(text) == expected


def test_only_a_known_tld_makes_a_bare_domain_a_link() -> None:
    # twitter-text links a protocol-less domain only when it ends in a TLD it knows.
    assert count_x("kominfo.kota.go.id/layanan") == 23
    assert count_x("file.txt") == 8
    assert count_x("laporan.pdf") == 11
