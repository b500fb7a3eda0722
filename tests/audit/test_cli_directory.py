"""``tongting verify`` over a directory copied out of the archive bucket (no AWS at all)."""

from __future__ import annotations

import json

from shared.adapters.memory.audit_log import MemoryLogHeads
from shared.audit.log import TransparencyLog
from shared.audit.note import Signer
from tests.audit.test_log import Bucket, Clock, archive_object
from tools.tongting import main


def _copy_out(bucket, root):
    for key, body in bucket.objects.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)


def test_verify_a_copied_archive_directory(tmp_path, capsys):
    bucket, signer = Bucket(), Signer.generate("tongting.test/archive-log")
    log = TransparencyLog(MemoryLogHeads(), bucket, bucket, signer, Clock())
    log.append([archive_object(bucket, "events/date=2026-12-01/district=320213/lot=a/x.jsonl", 40)])
    log.append([archive_object(bucket, "events/date=2026-12-02/district=320213/lot=a/y.jsonl", 9, start=40)])
    _copy_out(bucket, tmp_path)
    assert main(["verify", "--archive", str(tmp_path), "--key", signer.verifier_key()]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out == {"ok": True, "tree_size": 49, "records": 49, "problems": []}
    (tmp_path / "events/date=2026-12-02/district=320213/lot=a/y.jsonl").unlink()  # a removed object
    assert main(["verify", "--archive", str(tmp_path), "--key", signer.verifier_key()]) == 1
    assert "records removed" in capsys.readouterr().out
