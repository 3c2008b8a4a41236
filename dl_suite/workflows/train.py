"""train(cfg): a config in, a run folder out (model.keras, history.csv, curves, previews)."""

import json
import logging
import sys
from pathlib import Path

from dl_suite.errors import UserError
from dl_suite.io import write_text
from dl_suite.workflows import runs
from dl_suite.workflows.data import load_samples, require_split, split_pairs, split_validation

logger = logging.getLogger(__name__)


def _weight_map_kind(loss_name):
    if loss_name == "weighted_bce_dice":
        return "border"
    if loss_name.startswith("weighted_"):
        return "unet"
    return None


def load_training_data(cfg):
    """(train_samples, val_samples) preprocessed as the config says; val may be split off."""
    train = load_samples(require_split(cfg, "train"), cfg)
    val_pairs = split_pairs(cfg, "val")
    if val_pairs is not None:
        return train, load_samples(val_pairs, cfg)
    if not cfg["train"]["dataset_splitter"]:
        return train, None
    return split_validation(train, cfg["train"]["validation_split"], cfg["train"]["seed"])


def make_datasets(cfg, train_samples, val_samples):
    """Keras PyDatasets for training (augmented, shuffled) and validation (plain, fixed)."""
    from dl_suite.data.dataset import SegmentationDataset
    from dl_suite.data.preprocess import pad_to_size

    patch = (cfg["model"]["image_height"], cfg["model"]["image_width"])
    common = dict(
        batch_size=cfg["train"]["batch_size"],
        patch_size=patch,
        num_classes=cfg["model"]["num_classes"],
        target_type=cfg["generator"]["target_type"],
        weight_map=_weight_map_kind(cfg["model"]["loss"]),
        seed=cfg["train"]["seed"],
    )
    generator = cfg["generator"]

    def prepare(samples):
        _, images, masks = samples
        return [pad_to_size(i, patch) for i in images], [pad_to_size(m, patch) for m in masks]

    augmentor = None
    if generator["augmentation"]:
        from dl_suite.data.augment import build_augmentor

        augmentor = build_augmentor(cfg)
    images, masks = prepare(train_samples)
    train_ds = SegmentationDataset(
        images, masks, augmentor=augmentor, shuffle=True,
        steps_per_epoch=cfg["train"]["steps_per_epoch"],
        workers=generator["workers"], use_multiprocessing=generator["use_multiprocessing"],
        sampling_pdf=generator["sampling_pdf"], **common,
    )
    val_ds = None
    if val_samples is not None:
        images, masks = prepare(val_samples)
        val_ds = SegmentationDataset(
            images, masks, augmentor=None, shuffle=False,
            steps_per_epoch=cfg["train"]["validation_steps"], **common,
        )
    return train_ds, val_ds


def build_compiled_model(cfg, channels):
    """Builds the configured model and compiles it with its loss, metrics and optimiser."""
    from dl_suite.losses import get_loss
    from dl_suite.metrics import get_metric
    from dl_suite.models import build_model
    from dl_suite.optimizers import build_optimizer

    section = dict(cfg["model"])
    name = section.pop("name")
    num_classes = section.pop("num_classes")
    shape = (section["image_height"], section["image_width"], channels)
    model = build_model(name, shape, num_classes, **section)
    loss = get_loss(section["loss"], class_weights=section["class_weights"])
    metrics = [get_metric(m, num_classes=num_classes) for m in section["metrics"]]
    optimizer = build_optimizer(
        section["optimizer"], section["learning_rate"],
        clipvalue=section["clipvalue"], clipnorm=section["clipnorm"], cfg=cfg,
    )
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics)
    return model


def _start_run(cfg):
    run_dir = runs.create_run(cfg["train"]["model_dir"])
    write_text(run_dir / runs.CONFIG_FILE, cfg.to_json())
    if cfg.source:
        runs.write_status(run_dir, "running", source_config=str(cfg.source))
    return run_dir


def train(cfg, *, resume=None):
    """Trains the configured model.

    Args:
        cfg: a validated Config.
        resume: a run folder to continue (from its last completed epoch), or None for a new run.

    Returns:
        The run folder.
    """
    import keras

    from dl_suite.callbacks import build_callbacks, load_resume_state

    keras.utils.set_random_seed(cfg["train"]["seed"])
    initial_epoch = 0
    if resume:
        run_dir = Path(resume)
        state = load_resume_state(run_dir)
        if state is None:
            raise UserError(f"'{run_dir}' holds no resumable state (no epoch finished yet). Start a new run instead.")
        saved = json.loads((run_dir / runs.CONFIG_FILE).read_text(encoding="utf-8"))
        if saved["model"] != dict(cfg["model"]):
            logger.warning("The config's [model] differs from the run's; continuing with the run's model.")
        model, initial_epoch = state["model"], state["epoch"]
        if initial_epoch >= cfg["train"]["epochs"]:
            logger.info("Run %s already finished %d epochs.", run_dir, initial_epoch)
            return run_dir
        logger.info("Resuming %s after epoch %d.", run_dir, initial_epoch)
    else:
        run_dir = _start_run(cfg)
        state = None
    runs.write_status(run_dir, "running", epochs_planned=cfg["train"]["epochs"])
    train_samples, val_samples = load_training_data(cfg)
    logger.info(
        "Training on %d images, validating on %d; run folder %s",
        len(train_samples[0]), len(val_samples[0]) if val_samples else 0, run_dir,
    )
    train_ds, val_ds = make_datasets(cfg, train_samples, val_samples)
    channels = train_samples[1][0].shape[-1]
    if state is None:
        model = build_compiled_model(cfg, channels)
        _load_pretrained(model, cfg)
        if cfg["model"]["show_summary"]:
            model.summary(print_fn=logger.info)
    preview = (val_samples or train_samples)[1][: cfg["train"]["num_infer_images"]]
    callbacks = build_callbacks(run_dir, cfg, preview_images=preview, resume_state=state)
    verbose = 1 if sys.stderr.isatty() else 2
    try:
        history = model.fit(
            train_ds, validation_data=val_ds, epochs=cfg["train"]["epochs"],
            initial_epoch=initial_epoch, callbacks=callbacks, verbose=verbose,
        )
    except KeyboardInterrupt:
        runs.write_status(run_dir, "interrupted")
        raise
    stopped = getattr(model, "stop_training", False)
    done = initial_epoch + len(history.epoch)
    runs.write_status(run_dir, "complete", epochs_done=done, stopped_early=bool(stopped))
    return run_dir


def _load_pretrained(model, cfg):
    path = cfg["train"]["pretrained_weights"]
    if not path:
        return
    import keras

    path = Path(path)
    if not path.is_file():
        raise UserError(f"train.pretrained_weights: file not found: '{path}'.")
    if path.suffix == ".keras":
        source = keras.saving.load_model(path, compile=False)
        model.set_weights(source.get_weights())
    else:
        model.load_weights(path)
    logger.info("Fine-tuning from %s", path)
