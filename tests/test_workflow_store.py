"""atomic_write: complete files only, with the permissions a plain write would give."""

import os
import stat

import pytest

from skmicro._paths import atomic_write


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_new_file_gets_the_umask_permissions_not_mkstemps(tmp_path, umask_022):
    path = tmp_path / "features.parquet"
    atomic_write(path, lambda fh: fh.write(b"table"))
    assert path.read_bytes() == b"table"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # 0o666 & ~0o022, readable by others


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_rewrite_keeps_the_existing_permissions(tmp_path, umask_022):
    path = tmp_path / "features.csv"
    path.write_bytes(b"old")
    os.chmod(path, 0o640)
    atomic_write(path, lambda fh: fh.write(b"new"))
    assert path.read_bytes() == b"new" and stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "features.csv"
    path.write_bytes(b"old")

    def fail(fh):
        fh.write(b"partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, fail)
    assert path.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == [
        "features.csv"]
