"""The example office's channels.yaml, written once for the tests that need a real one:
its website (canonical), its press outbox, and any other channels a test adds."""

from __future__ import annotations

WEBSITE = """  website:
    type: static-site
    canonical: true
    path: public
    base_url: https://kominfo.example.go.id/siaran/
"""
POSTER = """  poster:
    type: poster-pdf
    out: posters
"""


def press(*addresses: str) -> str:
    """The press list as an outbox of .eml files (nothing leaves the machine)."""
    lists = ", ".join(f'"{address}"' for address in addresses or ("redaksi@media.example.com",))
    return f"""  press:
    type: email
    transport: outbox
    path: outbox
    from: "Humas <humas@example.go.id>"
    lists: [{lists}]
"""


def office_yaml(*channels: str, language: str | None = "id") -> str:
    """channels.yaml of Diskominfo Kota Contoh with these channel blocks (default: the
    website and the press outbox)."""
    head = "organisation: Diskominfo Kota Contoh\n"
    if language:
        head += f"language: {language}\n"
    return head + "channels:\n" + "".join(channels or (WEBSITE, press()))
