import json
import logging

import numpy as np
import pytest
import tifffile

from dl_suite.inference.batch import InferenceOptions, infer_paths
from dl_suite.inference.overlay import OVERLAY_STYLES, make_overlay, parse_colour
from dl_suite.inference.postprocess import PostprocessOptions


def blobs(shape=(64, 80)):
    y, x = np.ogrid[: shape[0], : shape[1]]
    image = ((y - 20) ** 2 + (x - 20) ** 2 <= 64) | ((y - 40) ** 2 + (x - 55) ** 2 <= 100)
    return (image * 200 + 20).astype(np.uint8)


def sigmoid_predictor(batch):
    return 1 / (1 + np.exp(-(batch - 100.0) / 10.0))


OPTIONS = InferenceOptions(tile_size=32, halo=4, overlap=4, batch_size=2, progress=False,
                           postprocess=PostprocessOptions(threshold_method="fixed"),
                           pixel_size=0.5)


def test_overlays_are_rgb_uint8():
    image = blobs()
    mask = image > 100
    for style in OVERLAY_STYLES.names():
        rgb = make_overlay(image, mask=mask, style=style)
        assert rgb.shape == image.shape + (3,) and rgb.dtype == np.uint8
    assert tuple(make_overlay(image, mask=mask, style="colorize", white="green")[20, 20]) == (0, 255, 0)
    with pytest.raises(ValueError, match="expected a name"):
        parse_colour("greeen")


def test_batch_writes_calibrated_outputs_skips_done_and_reports_failures(tmp_path, caplog):
    inputs = tmp_path / "in"
    inputs.mkdir()
    tifffile.imwrite(inputs / "a.tif", blobs())
    tifffile.imwrite(inputs / "movie.tif", np.stack([blobs()] * 3), imagej=True,
                     metadata={"axes": "TYX", "finterval": 2.0, "unit": "um"}, resolution=(4.0, 4.0))
    (inputs / "broken.tif").write_bytes(b"not a tiff")
    paths = sorted(inputs.iterdir())
    out = tmp_path / "out"

    with caplog.at_level(logging.ERROR):
        report = infer_paths(paths, out, sigmoid_predictor, OPTIONS)
    assert [p.name for p in report.written] == ["a.tif", "movie.tif"]
    assert [p.name for p, _ in report.failed] == ["broken.tif"] and "broken.tif" in caplog.text
    assert json.loads((out / "inference_report.json").read_text())["failed"][0]["path"].endswith("broken.tif")

    with tifffile.TiffFile(out / "a_prob.tif") as tif:
        assert tif.is_imagej and tif.series[0].axes == "YX" and tif.pages[0].dtype == np.float32
        num, den = tif.pages[0].tags["XResolution"].value
        assert den / num == pytest.approx(0.5)
    with tifffile.TiffFile(out / "a_labels.tif") as tif:
        assert tif.pages[0].dtype == np.uint16 and tif.asarray().max() == 2
    assert tifffile.imread(out / "a_mask.tif").max() == 255
    assert (out / "a_overlay.png").exists()
    with tifffile.TiffFile(out / "movie_labels.tif") as tif:
        assert tif.series[0].axes == "TYX" and tif.imagej_metadata["frames"] == 3
        assert tif.imagej_metadata["finterval"] == 2.0
        num, den = tif.pages[0].tags["XResolution"].value
        assert den / num == pytest.approx(0.25)
    with tifffile.TiffFile(out / "movie_overlay.tif") as tif:
        assert tif.series[0].axes == "TYXS"
    assert not list(out.glob(".*"))  # no temp files left

    stamp = (out / "a_mask.tif").stat().st_mtime_ns
    again = infer_paths(paths, out, sigmoid_predictor, OPTIONS)
    assert [p.name for p in again.skipped] == ["a.tif", "movie.tif"]
    assert (out / "a_mask.tif").stat().st_mtime_ns == stamp

    (out / "a_overlay.png").unlink()  # an interrupted run: not redone without --overwrite
    with caplog.at_level(logging.WARNING):
        third = infer_paths(paths, out, sigmoid_predictor, OPTIONS)
    assert third.written == [] and [p.name for p in third.skipped] == ["movie.tif"]
    assert [(p.name, missing) for p, missing in third.partial] == [("a.tif", ["a_overlay.png"])]
    assert "only some of its outputs exist" in caplog.text and "--overwrite" in caplog.text
    assert "--overwrite" in third.summary()
    assert (out / "a_mask.tif").stat().st_mtime_ns == stamp and not (out / "a_overlay.png").exists()
    forced = infer_paths(paths[:1], out, sigmoid_predictor, OPTIONS, overwrite=True)
    assert [p.name for p in forced.written] == ["a.tif"] and (out / "a_overlay.png").exists()


def test_inputs_sharing_a_stem_write_separate_outputs(tmp_path):
    from dl_suite.inference.batch import output_stems

    inputs = tmp_path / "in"
    inputs.mkdir()
    tifffile.imwrite(inputs / "a.tif", blobs())
    from dl_suite.io import write_image

    write_image(inputs / "a.png", blobs()[::-1])  # different content, same stem
    tifffile.imwrite(inputs / "b.tif", blobs())
    paths = sorted(inputs.iterdir())
    assert {p.name: s for p, s in output_stems(paths).items()} == {
        "a.png": "a_png", "a.tif": "a_tif", "b.tif": "b"}
    report = infer_paths(paths, tmp_path / "out", sigmoid_predictor, OPTIONS)
    assert len(report.written) == 3
    from_tif = tifffile.imread(tmp_path / "out" / "a_tif_mask.tif")
    from_png = tifffile.imread(tmp_path / "out" / "a_png_mask.tif")
    assert np.array_equal(from_tif, (blobs() > 100) * 255)
    assert np.array_equal(from_png, from_tif[::-1])
    assert (tmp_path / "out" / "b_mask.tif").exists() and not (tmp_path / "out" / "a_mask.tif").exists()


def test_wrong_channel_count_is_a_per_file_failure(tmp_path):
    # Grey into a 3-channel model is repeated (the channel rule); 2 channels cannot be converted.
    two = np.stack([blobs(), blobs()])
    tifffile.imwrite(tmp_path / "two.tif", two, imagej=True, metadata={"axes": "CYX"})
    opts = InferenceOptions(num_channels=3, progress=False)
    report = infer_paths([tmp_path / "two.tif"], tmp_path / "o", sigmoid_predictor, opts)
    assert "has 2 channel(s) per frame but the model expects 3" in report.failed[0][1]
