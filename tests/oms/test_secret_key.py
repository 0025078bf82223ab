"""The development secret key is random per checkout and kept across restarts."""

from __future__ import annotations

import stat

from oms.lib.secret import KEY_FILE_NAME, local_secret_key


def test_two_fresh_data_dirs_get_different_keys(tmp_path):
    first = local_secret_key(tmp_path / "one" / ".data")
    second = local_secret_key(tmp_path / "two" / ".data")
    assert first and second
    assert first != second
    assert len(first) >= 50


def test_the_same_data_dir_gives_the_same_key_again(tmp_path):
    data_dir = tmp_path / ".data"
    assert local_secret_key(data_dir) == local_secret_key(data_dir)
    assert (data_dir / KEY_FILE_NAME).read_text().strip() == local_secret_key(data_dir)


def test_the_key_file_is_readable_by_its_owner_only(tmp_path):
    local_secret_key(tmp_path)
    mode = stat.S_IMODE((tmp_path / KEY_FILE_NAME).stat().st_mode)
    assert mode == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE_NAME]  # no temporary left

