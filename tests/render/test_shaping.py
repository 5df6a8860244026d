"""The shared shaping helpers, tested directly: `fit` shortens the flexible fields and never
the link; `split_thread` and `split_paragraphs` make posts that each fit, in order, with the
link in the first and the numbering in all."""

from __future__ import annotations

import re

import pytest

from chanpub.render.shaping import LengthRule, count_graphemes, fit, split_thread
from chanpub.render.threads import split_paragraphs

LINK = "https://kominfo.example.go.id/siaran/banjir.html"
RULE = LengthRule(limit=120, unit="characters", count=count_graphemes)


def post(values: dict[str, str]) -> str:
    return f"{values['title']}: {values['summary']} {LINK}"


def test_fit_leaves_a_short_text_alone() -> None:
    fitted = fit(post, {"title": "Banjir", "summary": "Air surut."}, RULE)
    assert not fitted.shortened and fitted.text == f"Banjir: Air surut. {LINK}"


def test_fit_shortens_the_summary_first_at_a_word_and_keeps_the_link_whole() -> None:
    summary = "Warga diminta menjauhi bantaran sungai sampai pemberitahuan berikutnya dari BPBD."
    fitted = fit(post, {"title": "Banjir Rob di Pesisir", "summary": summary}, RULE)
    assert fitted.shortened and not fitted.over_limit
    assert fitted.text.startswith("Banjir Rob di Pesisir: Warga") and fitted.text.endswith(LINK)
    assert "…" in fitted.text and fitted.length <= 120


def test_fit_cuts_the_title_only_when_the_summary_is_gone() -> None:
    title = "Pemerintah Kota Membuka Layanan Administrasi Kependudukan Keliling Di Dua Belas"
    fitted = fit(post, {"title": title, "summary": "Mulai Senin."}, RULE)
    assert fitted.text.endswith(LINK) and not fitted.over_limit
    assert "Mulai Senin" not in fitted.text  # the summary went first
    assert fitted.text.startswith("Pemerintah Kota")


def test_fit_says_when_even_the_fixed_parts_do_not_fit() -> None:
    fitted = fit(post, {"title": "", "summary": ""}, LengthRule(20, "characters", len))
    assert fitted.over_limit and LINK in fitted.text


@pytest.mark.parametrize("words", [5, 60, 200])
def test_split_thread_posts_each_fit_and_keep_every_word_in_order(words: int) -> None:
    text = " ".join(f"kata{n}" for n in range(words))
    posts = split_thread(text, RULE, keep_first=LINK)
    assert all(RULE.fits(p) for p in posts) and LINK in posts[0]
    numbered = [re.fullmatch(r"(.*) \((\d+)/(\d+)\)", p, flags=re.DOTALL) for p in posts]
    if len(posts) == 1:
        assert numbered == [None]  # one post needs no number
        bodies = posts
    else:
        assert [(int(m[2]), int(m[3])) for m in numbered if m] == [
            (i, len(posts)) for i in range(1, len(posts) + 1)
        ]
        bodies = [m[1] for m in numbered if m]
    assert " ".join(bodies).replace(LINK, "").split() == text.split()


def test_split_paragraphs_keeps_paragraphs_whole_where_they_fit() -> None:
    text = "Paragraf satu pendek.\n\nParagraf dua juga pendek.\n\n" + "panjang " * 40
    posts = split_paragraphs(text, RULE, link=LINK)
    assert all(RULE.fits(p) for p in posts)
    assert posts[0].startswith("Paragraf satu pendek.\n\nParagraf dua juga pendek.")
    assert LINK in posts[0] and all(LINK not in p for p in posts[1:])
    assert posts[-1].endswith(f"({len(posts)}/{len(posts)})")


def test_split_paragraphs_gives_the_first_post_its_own_limit() -> None:
    caption = LengthRule(limit=80, unit="characters", count=count_graphemes)
    posts = split_paragraphs("kalimat " * 50, RULE, link=LINK, first_rule=caption)
    assert caption.fits(posts[0]) and all(RULE.fits(p) for p in posts[1:])
