"""File helpers shared by the store, the config file and the error log."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from omar_cli.atomic import append_private, atomic_write_bytes, remove_stray_temp_files


def test_the_error_log_is_appended_and_private(tmp_path: Path) -> None:
    log = tmp_path / "log" / "errors.log"
    append_private(log, "one\n")
    append_private(log, "two\n")
    assert log.read_text() == "one\ntwo\n"
    if sys.platform != "win32":
        assert log.stat().st_mode & 0o777 == 0o600


@pytest.mark.skipif(sys.platform == "win32", reason="symlinks need privileges there")
def test_the_error_log_never_follows_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "victim.txt"
    target.write_text("keep me\n")
    log = tmp_path / "errors.log"
    log.symlink_to(target)
    with pytest.raises(OSError):
        append_private(log, "planted\n")
    assert target.read_text() == "keep me\n"


def test_stray_temp_files_are_removed_and_fresh_ones_kept_when_asked(tmp_path: Path) -> None:
    atomic_write_bytes(tmp_path / "kept.json", b"{}")
    old, fresh = tmp_path / ".a.json.x1.tmp", tmp_path / ".b.json.x2.tmp"
    for stray in (old, fresh):
        stray.write_text("half")
    os.utime(old, (1, 1))
    assert remove_stray_temp_files(tmp_path, older_than=60) == 1
    assert fresh.exists() and not old.exists()
    assert remove_stray_temp_files(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.json"]
