"""Keys that are accepted for compatibility but change nothing, each with the reason.

One table for two kinds of key (the coordinator trims it when a key gets implemented):
- schema keys that no code reads: a config that sets one to a non-default value gets a
  warning naming it;
- keys of the legacy dialects (INI sections of the old segmentation API, flat legacy JSON) that
  the schema does not know: they are dropped with a warning naming them.

`tests/config/test_schema_keys_used.py` checks that every schema key is either read by some code
under `dl_suite/` or listed here.
"""

# "section.key" -> why it has no effect (and what to use instead, when something exists).
NO_EFFECT = {
    # -- schema keys read by no code ---------------------------------------------------------
    "tiledinfer.output_format": "the probability map is always written as an ImageJ TIFF",
    "infer.uneven_illumination": "use image.normalization = \"illumination\" instead",
    "infer.merged_dir": "overlays are written into infer.output_dir",
    "generator.debug": "use `dl-suite augment-preview` to see augmented samples",
    "generator.tips_factor": "the tips target of the legacy JSON suite is not implemented",
    "generator.sigma": "the tips target of the legacy JSON suite is not implemented",
    "model.seed": "weights are initialised from train.seed",
    "model.generator": "training always uses a data generator",
    "model.input_normalize": "normalisation is configured in [image] normalization",
    "model.normalization": "normalisation is configured in [image] normalization",
    "model.loss_tips": "the tips target of the legacy JSON suite is not implemented",
    "train.load_from_frozen": "pretrained weights are loaded by layer name, frozen or not",
    "train.create_backup": "runs are never overwritten (each run is a new folder)",
    "train.save_model_file": "runs always save model.keras",
    "dataset.datasetclass": "images and masks are always read from folders",
    "dataset.resize_interpolation": "images are not resized (patches are cut at full resolution)",
    # -- INI keys of the old segmentation API that the schema does not know ------------------
    "augmentor.transformer": "the old tool's experimental transformer augmentation is not ported",
    "dataset.color_order": "images are read as RGB; use image.color_converter to convert",
    "dataset.debug": "debug output of the old dataset reader",
    "dataset.image_format": "the image format is read from each file",
    "dataset.image_normalize": "normalisation is configured in [image] normalization",
    "dataset.input_normalize": "normalisation is configured in [image] normalization",
    "dataset.mask_format": "masks are read as label or grey images",
    "dataset.rgb_mask": "RGB (coloured-class) masks are not supported; use label images",
    "dataset.sharpening": "use [image] sharpening",
    "eval.batch_size": "evaluation predicts image by image (tiled)",
    "generator.generated_images_dir": "use `dl-suite augment-preview` to write augmented samples",
    "generator.generated_masks_dir": "use `dl-suite augment-preview` to write augmented samples",
    "generator.verbose": "use the command's -v option",
    "infer.algorithm": "post-processing is configured in [segmentation]",
    "infer.blur": "use [segmentation] blursize",
    "infer.colorized_dir": "overlays are written into infer.output_dir",
    "infer.ksize": "use [segmentation] blursize",
    "infer.mask_colorize": "use [segmentation] colorize",
    "inspect.model_graph": "the model summary is written into the run folder",
    "inspect.summary": "the model summary is written into the run folder",
    "mask.algorithm": "mask post-processing of the old tool is not ported",
    "mask.classes": "RGB (coloured-class) masks are not supported; use label images",
    "mask.color_order": "RGB (coloured-class) masks are not supported; use label images",
    "mask.mask_channels": "masks are read as one channel",
    "mask.mask_colors": "RGB (coloured-class) masks are not supported; use label images",
    "mask.normalized_threshold": "use [mask] threshold (grey value 0-255)",
    "mask.sharpening": "masks are never sharpened (it would move object borders)",
    "model.dropout_seed_fixing": "dropout draws from train.seed",
    "model.evaluation": "the old tool's evaluation dataset switch; use `dl-suite evaluate --split`",
    "model.filter_num": "widths come from model.base_filters, doubled per level",
    "model.filters": "widths come from model.base_filters, doubled per level",
    "model.max_filter": "widths come from model.base_filters, doubled per level",
    "model.freeze_backbone": "set model.freeze_encoder = True to freeze the encoder",
    "model.freeze_batch_norm": "batch normalisation layers train with their model",
    "model.image_depth": "3D volumes are not supported",
    "model.mlp_activation": "the transformer models use GELU",
    "model.pool": "the models down-sample with max-pooling",
    "tiledinfer.algorithm": "post-processing is configured in [segmentation]",
    "tiledinfer.background": "tiles are blended with a window, there is no background fill",
    "tiledinfer.binarize": "both the probability map and the mask are written",
    "tiledinfer.bitwise_blending": "tiles are blended with a window (tiledinfer.window)",
    "tiledinfer.merged_dir": "overlays are written into infer.output_dir",
    "train.best_model_file": "runs always save model.keras",
    "train.seedreset_callback": "seeds are set once from train.seed",
    "train.show_history": "curves.png is written when train.curves is True",
}


def reason(section, key):
    """Why `section.key` has no effect, or None when it is not in the table."""
    return NO_EFFECT.get(f"{section}.{key}")
