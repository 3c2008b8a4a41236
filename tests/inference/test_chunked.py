"""Chunked post-processing equals the whole-frame path, on objects crossing chunk borders."""

import numpy as np
import pytest
import tifffile
from scipy import ndimage as ndi

from dl_suite.inference.batch import InferenceOptions, infer_file
from dl_suite.inference.chunked import find_components, postprocess_chunked
from dl_suite.inference.postprocess import PostprocessOptions, postprocess

CHUNK = 16


def crossing_objects(shape=(70, 90)):
    """A mask whose objects cross 16-px chunk borders: a U joined only in another chunk, a ring
    (hole) over a chunk corner, two squares touching diagonally at a chunk corner, a bar
    touching the image border, and specks (small objects)."""
    m = np.zeros(shape, bool)
    m[5:40, 10:13] = True  # U: left arm (chunk columns 0)
    m[5:40, 36:39] = True  # right arm (chunk column 2)
    m[37:40, 10:39] = True  # joined at the bottom (chunk row 2)
    m[40:60, 45:65] = True
    m[45:55, 50:60] = False  # ring around (48, 64), a hole across chunk borders
    m[44:48, 74:80] = True
    m[48:52, 80:84] = True  # touches the first only diagonally, at the chunk corner (48, 80)
    m[62:70, 0:30] = True  # touches the image border
    m[2, 70] = m[20, 60] = True  # single-pixel specks
    m[31:33, 47:49] = True  # a 2x2 speck on a chunk corner
    return m


def smooth_probability(mask):
    return ndi.gaussian_filter(mask.astype(np.float32), 1.0)[..., None].astype(np.float32)


def test_components_merge_across_chunk_borders_like_ndi_label():
    mask = crossing_objects()
    for connectivity in (4, 8):
        structure = ndi.generate_binary_structure(2, 1 if connectivity == 4 else 2)
        expected, count = ndi.label(mask, structure)
        comps = find_components(lambda r, c: mask[r, c], mask.shape, connectivity=connectivity,
                                chunk=CHUNK)
        labels = np.zeros(mask.shape, np.int64)

        def write(rows, cols, values, _labels):
            labels[rows, cols] = values

        from dl_suite.inference.chunked import map_components

        map_components(lambda r, c: mask[r, c], write, mask.shape, comps,
                       np.arange(comps.count + 1))
        assert comps.count == count
        assert np.array_equal(labels, expected)  # same numbering (first-pixel raster order)
        assert np.array_equal(comps.sizes[1:], np.bincount(expected.ravel())[1:])
    # the U is one object although its arms only meet two chunks away
    assert labels[5, 11] == labels[5, 37] > 0
    # diagonal neighbours: one object with 8-connectivity, two with 4
    assert labels[47, 79] == labels[48, 80]
    assert ndi.label(mask)[0][47, 79] != ndi.label(mask)[0][48, 80]


@pytest.mark.parametrize("options", [
    PostprocessOptions(threshold_method="fixed", threshold=0.5),
    PostprocessOptions(threshold_method="otsu", min_size=5, clear_border=True),
    # the bar at the image border (239 px) is kept, the U and the ring (< 300 px) are not
    PostprocessOptions(threshold_method="fixed", threshold=0.5, min_size=300, border_min_size=2),
    PostprocessOptions(threshold_method="fixed", threshold=0.4, blursize=3, opening_radius=1,
                       closing_radius=2, max_hole_size=50, min_size=3),
    PostprocessOptions(threshold_method="fixed", threshold=0.5, fill_holes=False,
                       instance_method="none"),
])
def test_chunked_postprocess_equals_whole_frame(options):
    prob = smooth_probability(crossing_objects())
    _, threshold, mask, labels = postprocess(prob, options)
    assert 0 < mask.sum() < mask.size
    mask_out = np.zeros(mask.shape, np.uint8)
    holder = {}

    def labels_out(count):
        holder["labels"] = np.zeros(mask.shape, np.uint16)
        return holder["labels"]

    got_threshold, count = postprocess_chunked(prob, options, mask_out=mask_out,
                                               labels_out=labels_out, chunk=CHUNK)
    assert got_threshold == threshold
    assert np.array_equal(mask_out == 255, mask) and set(np.unique(mask_out)) <= {0, 255}
    if labels is None:
        assert count is None
    else:
        assert np.array_equal(holder["labels"], labels)


def test_chunked_border_min_size_keeps_the_border_bar_and_drops_inner_objects():
    prob = smooth_probability(crossing_objects())
    options = PostprocessOptions(threshold_method="fixed", threshold=0.5, min_size=300,
                                 border_min_size=2)
    mask_out = np.zeros(prob.shape[:2], np.uint8)
    postprocess_chunked(prob, options, mask_out=mask_out, chunk=CHUNK)
    assert mask_out[65, 5] == 255  # the bar touching the border (239 px)
    assert mask_out[20, 11] == 0  # the U, inside the image, under 300 px


def test_hole_across_chunks_is_filled_and_big_hole_kept():
    mask = crossing_objects()
    prob = mask.astype(np.float32)[..., None]
    out = np.zeros(mask.shape, np.uint8)
    postprocess_chunked(prob, PostprocessOptions(threshold_method="fixed"), mask_out=out, chunk=CHUNK)
    assert out[50, 55] == 255  # the ring's hole (100 px) spans four chunks and is filled
    out[:] = 0
    postprocess_chunked(prob, PostprocessOptions(threshold_method="fixed", max_hole_size=99),
                        mask_out=out, chunk=CHUNK)
    assert out[50, 55] == 0 and out[42, 47] == 255


def test_streamed_file_outputs_equal_in_memory_outputs(tmp_path):
    image = (crossing_objects() * 180 + 20).astype(np.uint8)
    tifffile.imwrite(tmp_path / "img.tif", image)

    def predictor(batch):
        return 1 / (1 + np.exp(-(batch - 100.0) / 10.0))

    base = InferenceOptions(tile_size=32, halo=4, overlap=4, progress=False,
                            postprocess=PostprocessOptions(threshold_method="otsu", min_size=3))
    small = infer_file(tmp_path / "img.tif", tmp_path / "memory", predictor, base)
    import dataclasses

    streamed_options = dataclasses.replace(base, stream_pixels=0, chunk=CHUNK)
    big = infer_file(tmp_path / "img.tif", tmp_path / "streamed", predictor, streamed_options)
    assert sorted(small) == sorted(big) == ["labels", "mask", "overlay", "probability"]
    from dl_suite.io import read_image

    for kind in small:
        a, b = read_image(small[kind]), read_image(big[kind])
        assert a.dtype == b.dtype and np.array_equal(a, b), kind
    # U, ring, diagonal pair, bar, 2x2 speck (the single-pixel specks are under min_size)
    assert len(np.unique(read_image(big["labels"]))) - 1 == 5
    assert not list((tmp_path / "streamed").glob(".*"))  # scratch files removed


def test_overlay_of_a_large_frame_is_downsampled(tmp_path):
    import dataclasses

    tifffile.imwrite(tmp_path / "img.tif", (crossing_objects() * 200).astype(np.uint8))
    options = InferenceOptions(tile_size=32, halo=0, overlap=4, progress=False,
                               outputs=("overlay",), overlay_max_side=30,
                               postprocess=PostprocessOptions(threshold_method="fixed"))
    written = infer_file(tmp_path / "img.tif", tmp_path, lambda b: b / 255.0,
                         dataclasses.replace(options, stream_pixels=0, chunk=CHUNK))
    from dl_suite.io import read_image

    assert read_image(written["overlay"]).shape == (24, 30, 3)  # every 3rd pixel of 70x90


def test_streamed_stack_equals_in_memory_and_needs_no_scratch(tmp_path):
    import dataclasses

    from dl_suite.io import read_image

    stack = np.stack([crossing_objects(), crossing_objects()[::-1], crossing_objects()[:, ::-1]])
    tifffile.imwrite(tmp_path / "s.tif", (stack * 200).astype(np.uint8))
    options = InferenceOptions(tile_size=32, halo=0, overlap=4, progress=False, chunk=CHUNK,
                               postprocess=PostprocessOptions(threshold_method="fixed"))
    memory = infer_file(tmp_path / "s.tif", tmp_path / "m", lambda b: b / 255.0, options)
    streamed = infer_file(tmp_path / "s.tif", tmp_path / "s", lambda b: b / 255.0,
                          dataclasses.replace(options, stream_pixels=0))
    for kind in memory:
        assert np.array_equal(read_image(memory[kind]), read_image(streamed[kind])), kind
    assert read_image(streamed["mask"]).shape == (3, 70, 90)
    only_prob = infer_file(tmp_path / "s.tif", tmp_path / "p", lambda b: b / 255.0,
                           dataclasses.replace(options, stream_pixels=0, outputs=("probability",)))
    assert list(only_prob) == ["probability"]
    assert sorted(p.name for p in (tmp_path / "p").iterdir()) == ["s_prob.tif"]
