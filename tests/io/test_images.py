import numpy as np
import pytest

from dl_suite.errors import DataError
from dl_suite.io import read_image, read_mask, write_image
from dl_suite.io.pairs import find_pairs, resolve_split_dirs


@pytest.mark.parametrize("suffix,dtype", [(".tif", np.uint16), (".tif", np.float32), (".png", np.uint8),
                                          (".png", np.uint16)])
def test_round_trip(tmp_path, suffix, dtype):
    array = (np.arange(48 * 40).reshape(48, 40) % 250).astype(dtype)
    path = write_image(tmp_path / f"a{suffix}", array)
    back = read_image(path)
    assert back.dtype == dtype and np.array_equal(back, array)


def test_tiff_stack_and_rgb(tmp_path):
    stack = np.random.default_rng(0).integers(0, 4000, (3, 16, 16)).astype(np.uint16)
    assert read_image(write_image(tmp_path / "s.tif", stack)).shape == (3, 16, 16)
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 0] = 200  # red stays red (BGR handled)
    back = read_image(write_image(tmp_path / "c.png", rgb))
    assert back[0, 0].tolist() == [200, 0, 0]


def test_jpeg_mask_binarised_at_threshold(tmp_path):
    mask = np.zeros((32, 32), np.uint8)
    mask[8:24, 8:24] = 255
    path = write_image(tmp_path / "m.jpg", mask)
    out = read_mask(path, threshold=128)
    assert set(np.unique(out)) == {0, 1}
    assert abs(int(out.sum()) - 256) < 10


def test_png_0_255_mask_becomes_0_1_and_labels_kept(tmp_path):
    mask = np.zeros((8, 8), np.uint8)
    mask[2:4, 2:4] = 255
    assert read_mask(write_image(tmp_path / "m.png", mask)).max() == 1
    labels = np.zeros((8, 8), np.uint16)
    labels[0, 0], labels[5, 5] = 3, 7
    assert set(np.unique(read_mask(write_image(tmp_path / "l.tif", labels)))) == {0, 3, 7}


def test_missing_and_corrupt_files_name_the_file(tmp_path):
    with pytest.raises(DataError, match="nope.png"):
        read_image(tmp_path / "nope.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(DataError, match="bad.png"):
        read_image(bad)
    bad_tif = tmp_path / "bad.tif"
    bad_tif.write_bytes(b"II*\x00garbage")
    with pytest.raises(DataError, match="corrupt"):
        read_image(bad_tif)


def test_atomic_write_leaves_no_temp_files(tmp_path):
    write_image(tmp_path / "x.png", np.zeros((4, 4), np.uint8))
    assert [p.name for p in tmp_path.iterdir()] == ["x.png"]


def _touch(folder, names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        write_image(folder / name, np.zeros((4, 4), np.uint8))


def test_pairing_by_basename_and_legacy_names(tmp_path):
    _touch(tmp_path / "images", ["a.png", "b.png"])
    _touch(tmp_path / "masks", ["a.png", "b_mask.png"])
    pairs = find_pairs(tmp_path / "images", tmp_path / "masks")
    assert [(i.name, m.name) for i, m in pairs] == [("a.png", "a.png"), ("b.png", "b_mask.png")]
    _touch(tmp_path / "d" / "inputs", ["raw_000.tif", "raw_001.tif"])
    _touch(tmp_path / "d" / "labels", ["instance_ids_000.tif", "instance_ids_001.tif"])
    dirs = resolve_split_dirs(datapath=tmp_path / "d")
    assert [m.name for _, m in find_pairs(*dirs)] == ["instance_ids_000.tif", "instance_ids_001.tif"]


def test_unpaired_files_are_named(tmp_path):
    _touch(tmp_path / "images", ["a.png", "b.png", "c.png"])
    _touch(tmp_path / "masks", ["a.png", "z.png"])
    with pytest.raises(DataError) as info:
        find_pairs(tmp_path / "images", tmp_path / "masks")
    text = str(info.value)
    assert "b.png" in text and "c.png" in text and "z.png" in text


def test_missing_folders(tmp_path):
    with pytest.raises(DataError, match="not found"):
        find_pairs(tmp_path / "no", tmp_path / "no")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="No images"):
        find_pairs(tmp_path / "empty", tmp_path / "empty")
    with pytest.raises(DataError, match="sub-folder"):
        resolve_split_dirs(datapath=tmp_path / "empty")
