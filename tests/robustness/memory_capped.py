"""Run CLI commands and studio requests under an address-space limit; one JSON line per case.

``python memory_capped.py HEADROOM_MIB CASES.json``: the shipped folk-mel_2bar and folk-inpaint
models load first (a studio over them, behind Starlette's TestClient); then ``RLIMIT_AS`` is set to
what the process holds plus HEADROOM_MIB, so a case that allocates per step of an enormous piece
fails with MemoryError (a non-1 exit or a 500) instead of taking the machine down. Each case is
``{"cli": argv}`` or ``{"post": path, "data": {...}, "files": {field: path}}``; each line holds the
exit code or status, the error text and the seconds taken. Used by test_memory_bombs.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import sys
import time
from pathlib import Path


def address_space_bytes() -> int:
    """The process's current virtual memory size (VmSize)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def run_cli(argv: list[str]) -> dict:
    from musicvae_tf.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
        except MemoryError as exc:
            code, err = "MemoryError", io.StringIO(str(exc))
    return {"code": code, "error": err.getvalue()}


def run_post(client, case: dict) -> dict:
    files = {field: (Path(path).name, Path(path).read_bytes())
             for field, path in case.get("files", {}).items()}
    answer = client.post(case["post"], data=case.get("data", {}), files=files)
    return {"code": answer.status_code, "error": answer.text[:2000], "bytes": len(answer.content)}


def main() -> None:
    headroom = int(sys.argv[1]) * 2**20
    cases = json.loads(Path(sys.argv[2]).read_text())
    from starlette.testclient import TestClient

    from musicvae_tf.studio.app import create_app
    from musicvae_tf.studio.service import Studio, load_studio_model

    studio = Studio([load_studio_model(name) for name in ("folk-mel_2bar", "folk-inpaint")])
    client = TestClient(create_app(studio))
    assert client.get("/api/models").status_code == 200
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (address_space_bytes() + headroom, hard))
    for case in cases:
        start = time.monotonic()
        result = run_cli(case["cli"]) if "cli" in case else run_post(client, case)
        result["seconds"] = round(time.monotonic() - start, 2)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
