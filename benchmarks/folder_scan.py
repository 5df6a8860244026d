"""A cron run over a folder of 2,000 releases of which 20 are due, against a run over a folder
holding only those 20, measured in the same run: the other 1,980 (drafts and releases
scheduled for later) should cost little more than reading their front matter.

    python benchmarks/folder_scan.py [--releases 2000] [--due 20] [--runs 3]

Each run is `chanpub send FOLDER` as cron starts it (a fresh process), in a fresh state
directory, publishing to a static-site channel; the median is reported, together with a
second run over the same folder (everything due already published).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

BODY = """Dinas Kependudukan membuka layanan keliling di 12 kelurahan mulai Senin.

Warga cukup membawa **KTP lama**. Jadwal lengkap:

| Kelurahan | Hari |
|---|---|
| Sukamaju | Senin |
| Sukajadi | Selasa |

Informasi lengkap di [situs resmi](https://kominfo.example.go.id).
"""


def write_folder(folder: Path, total: int, due: int) -> None:
    """`due` approved, due releases and `total - due` drafts and scheduled ones."""
    from chanpub.testing import write_release

    for number in range(total):
        fields: dict[str, object] = {"tags": ["adminduk", "layanan"]}
        if number % 3 == 0:  # most officers leave the summary to the first paragraph
            fields["summary"] = f"Ringkasan siaran {number}."
        if number < due:
            approved = True
        elif number % 2:
            approved, fields["publish_at"] = True, "2099-01-01T09:00:00+07:00"
        else:
            approved = False
        write_release(
            folder,
            name=f"{number:05}.md",
            title=f"Siaran Pers Nomor {number}",
            body=BODY * 3,
            approved=approved,
            **fields,
        )


def chanpub_script() -> Path:
    """The installed console script next to this interpreter (not a pyenv shim)."""
    return Path(sys.executable).parent / "chanpub"


def timed_send(office: Path, folder: Path) -> tuple[float, float]:
    """Wall time of a first and a second `chanpub send folder` on a fresh state directory."""
    state = office / "state"
    shutil.rmtree(state, ignore_errors=True)
    shutil.rmtree(office / "public", ignore_errors=True)
    env = {**os.environ, "CHANPUB_STATE_DIR": str(state), "LANG": "C.UTF-8"}
    times = []
    for _ in range(2):
        started = time.perf_counter()
        result = subprocess.run(
            [
                sys.executable,
                str(chanpub_script()),
                "send",
                str(folder),
                "--config",
                str(office / "channels.yaml"),
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        times.append(time.perf_counter() - started)
        assert result.returncode == 0, result.stderr
    return times[0], times[1]


def main() -> None:
    """Measure and print the figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=2000)
    parser.add_argument("--due", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        office = Path(temporary)
        (office / "channels.yaml").write_text(
            yaml.safe_dump(
                {
                    "channels": {
                        "website": {
                            "type": "static-site",
                            "canonical": True,
                            "path": "public",
                            "base_url": "https://kominfo.example.go.id/siaran/",
                        }
                    }
                }
            ),
            encoding="utf-8",
        )
        big, small = office / "all", office / "due"
        write_folder(big, args.releases, args.due)
        small.mkdir()
        for path in sorted(big.glob("*.md"))[: args.due]:
            shutil.copy(path, small / path.name)
        results: dict[str, list[tuple[float, float]]] = {"small": [], "big": []}
        for _ in range(args.runs):
            results["small"].append(timed_send(office, small))
            results["big"].append(timed_send(office, big))
    figures = {
        name: (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
        for name, runs in results.items()
    }
    for label, index in (
        ("first run (publishes the due ones)", 0),
        ("second run (nothing new)", 1),
    ):
        small_time, big_time = figures["small"][index], figures["big"][index]
        print(f"{label}:")
        print(f"  folder of {args.due:>5}            {small_time * 1000:8.0f} ms")
        print(
            f"  folder of {args.releases:>5} ({args.due} due)  {big_time * 1000:8.0f} ms  "
            f"= {big_time / small_time:.2f}x"
        )
    per_release = (figures["big"][1] - figures["small"][1]) / (args.releases - args.due)
    print(f"cost of each release that is not due: {per_release * 1000:.2f} ms")


if __name__ == "__main__":
    main()
