"""Loading a run's model and predicting whole images with it (tiled, any size)."""

import logging
from pathlib import Path

import numpy as np

from dl_suite.config import config_from_dict
from dl_suite.errors import UserError
from dl_suite.io import read_json
from dl_suite.workflows import runs

logger = logging.getLogger(__name__)


def load_run_config(run_dir):
    """The resolved config a run was trained with (its preprocessing is reused as is)."""
    path = Path(run_dir) / runs.CONFIG_FILE
    data = read_json(path)
    if data is None:
        raise UserError(f"'{run_dir}' is not a dl-suite run folder: it has no {runs.CONFIG_FILE}.")
    return config_from_dict(data, base_dir=run_dir, source=path)


def load_model(path, run_dir=None):
    """Loads a run's model for prediction: a `.keras` file, or a `.weights.h5` file
    (train.save_weights_only) into the model rebuilt from the run's config.json.

    Args:
        path: the model or weights file.
        run_dir: the run whose config describes a weights file's model (default: its folder).
    """
    import keras

    from dl_suite.io import is_weights_file, load_keras_model

    if is_weights_file(path):
        run_dir = Path(run_dir or Path(path).parent)
        model = runs.model_from_weights(run_dir, load_run_config(run_dir), path)
    else:
        model = load_keras_model(path, compile=False)
    if len(model.outputs) > 1:  # deep supervision: predict with the main output only
        model = keras.Model(model.inputs, model.outputs[0], name=f"{model.name}_main")
    return model


def fixed_input_size(model):
    """(h, w) when the model was built for one input size, else None (video models too)."""
    from dl_suite.inference.free_size import spatial_size

    return spatial_size(model)


def model_predictor(model):
    """Tile predictor for a model: tiles smaller than a fixed-size model's input are
    mirror-padded to it and the prediction cropped back, so any tile the tiler cuts works."""
    from dl_suite.data.preprocess import pad_to_size
    from dl_suite.inference.predictors import keras_predictor

    predict = keras_predictor(model)
    size = fixed_input_size(model)
    if size is None:
        return predict

    def padded(batch):
        h, w = batch.shape[1:3]
        if (h, w) == size:
            return predict(batch)
        if h > size[0] or w > size[1]:
            raise ValueError(f"Tile {h}x{w} is larger than the model input {size[0]}x{size[1]}.")
        big = np.stack([pad_to_size(tile, size) for tile in batch])
        return predict(big)[:, :h, :w]

    return padded


class ImagePredictor:
    """Predicts probability maps of whole preprocessed images with a trained model (tiled).

    Args:
        model: a Keras model.
        options: `InferenceOptions` (tile size, halo, overlap, window, TTA, input multiple).
    """

    def __init__(self, model, options):
        self.model = model
        self.options = options
        self.predict_batch = model_predictor(model)

    def __call__(self, image, progress=False):
        """(H, W, C) float32 -> (H, W, K) float32 probabilities."""
        from dl_suite.data.preprocess import pad_to_multiple
        from dl_suite.inference.tiling import predict_tiled

        o = self.options
        size = fixed_input_size(self.model)
        if size and o.tta == "none" and image.shape[0] <= size[0] and image.shape[1] <= size[1]:
            # The whole image fits the model input: one mirror-padded prediction, no tiles.
            padded, (h, w) = pad_to_multiple(image, o.input_multiple)
            return self.predict_batch(padded[None].astype(np.float32))[0, :h, :w]
        tiling = {"tile_size": o.tile_size, "halo": o.halo, "overlap": o.overlap}
        if o.whole_image:  # tiledinfer.enabled = false: one pass, padded to the input multiple
            m = o.input_multiple
            tiling = {"tile_size": (-(-image.shape[0] // m) * m, -(-image.shape[1] // m) * m),
                      "halo": 0, "overlap": 0}
        return predict_tiled(
            image, self.predict_batch, **tiling,
            batch_size=o.batch_size, window=o.window, tta=o.tta,
            input_multiple=o.input_multiple, progress=progress,
        )
