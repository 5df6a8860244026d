"""WhatsApp throughput: messages per second the whatsapp channel sends to the Cloud API
stand-in (tests/standins/whatsapp.py) on loopback, against bare httpx
POSTs of the same messages to the same server, measured in the same run.

    python benchmarks/whatsapp_throughput.py [--subscribers 1000]

The channel's figure includes what exactly-once costs: two committed ledger writes per
subscriber (in progress, sent) and the phone list parsed with phonenumbers. Pacing is set
far above what the stand-in can take (`rate_per_second: 1000`), so it measures the code,
not the pace; a real business number is paced at its tier (80/s by default).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
TOKEN = "EAAG-benchmark-token"
PHONE_ID, WABA_ID, VERSION = "106540352242922", "102290129340398", "v26.0"


def bare_posts(url: str, count: int) -> float:
    """Seconds for `count` template POSTs with one httpx client (the baseline)."""
    import httpx

    body = {
        "messaging_product": "whatsapp",
        "to": "",
        "type": "template",
        "template": {
            "name": "siaran_resmi",
            "language": {"code": "id"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Judul"},
                        {"type": "text", "text": "url"},
                    ],
                }
            ],
        },
    }
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        start = time.perf_counter()
        for n in range(count):
            body["to"] = f"+628129{n:07d}"
            client.post(f"{url}/{VERSION}/{PHONE_ID}/messages", json=body).raise_for_status()
        return time.perf_counter() - start


def channel_send(url: str, count: int, folder: Path) -> float:
    """Seconds for the whatsapp channel to send to `count` subscribers (ledger included)."""
    from chanpub.channels.whatsapp.channel import WhatsappChannel, WhatsappOptions
    from chanpub.contract import ChannelContext, Links
    from chanpub.http import make_client
    from chanpub.ledger import Ledger
    from chanpub.testing import sample_release

    (folder / "list.csv").write_text(
        "phone\n" + "".join(f"0813-{n // 10000:04d}-{n % 10000:04d}\n" for n in range(count)),
        encoding="utf-8",
    )
    options = WhatsappOptions.model_validate(
        {
            "phone_number_id": PHONE_ID,
            "business_account_id": WABA_ID,
            "access_token": TOKEN,
            "graph_base": url,
            "api_version": VERSION,
            "template": "siaran_resmi",
            "lists": ["list.csv"],
            "rate_per_second": 1000,
        }
    )
    ledger = Ledger(folder / "ledger.sqlite3")
    client = make_client(__import__("httpx").HTTPTransport())
    context = ChannelContext(
        base_dir=folder, client_factory=lambda: client, journal_factory=ledger.journal
    )
    channel = WhatsappChannel("wa", options, context)
    release = sample_release(folder / "rilis")
    preview = channel.preview(release, Links("https://kominfo.example.go.id/s.html", False))
    start = time.perf_counter()
    receipt = channel.publish(preview, "bench")
    elapsed = time.perf_counter() - start
    assert receipt.counts["sent"] == count, receipt.counts
    client.close()
    ledger.close()
    return elapsed


def main() -> None:
    """Print messages/s of the channel and of bare POSTs, and their ratio."""
    from standins.whatsapp import Template, WhatsAppStandIn

    from chanpub.testing import serve_on_loopback

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    count = parser.parse_args().subscribers
    cloud = WhatsAppStandIn(
        TOKEN, [Template("siaran_resmi", header=None)], phone_number_id=PHONE_ID, waba_id=WABA_ID
    )
    with serve_on_loopback(cloud.http_handler()) as url, tempfile.TemporaryDirectory() as tmp:
        baseline = bare_posts(url, count)
        channel = channel_send(url, count, Path(tmp))
    print(f"bare httpx POSTs:  {count / baseline:8.0f} messages/s")
    print(f"whatsapp channel:  {count / channel:8.0f} messages/s")
    print(f"channel / bare:    {baseline / channel:8.2f}")


if __name__ == "__main__":
    main()
