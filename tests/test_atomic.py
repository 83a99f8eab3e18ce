import os
import stat

import pytest

from mlkit._atomic import atomic_open, write_text


def test_a_failure_inside_the_block_keeps_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "report.html"
    target.write_text("old")

    def write_half():
        with atomic_open(target) as handle:
            handle.write("half of the new")
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        write_half()
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_a_failed_rename_keeps_the_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "schema.json"
    target.write_text("old")

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["schema.json"]


def test_new_files_are_shareable_and_replaced_files_keep_their_mode(tmp_path):
    fresh = write_text(tmp_path / "new.txt", "x")
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o644
    private = tmp_path / "private.txt"
    private.write_text("x")
    private.chmod(0o600)
    write_text(private, "y")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_text() == "y"


def test_binary_mode_and_missing_folders(tmp_path):
    target = tmp_path / "a" / "b" / "profile.npz"
    with atomic_open(target, "wb") as handle:
        handle.write(b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"


def test_text_is_utf8_with_unix_line_ends(tmp_path):
    target = write_text(tmp_path / "t.txt", "café\nline\n")
    assert target.read_bytes() == "café\nline\n".encode()
