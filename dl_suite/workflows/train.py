"""train(cfg): a config in, a run folder out (model.keras, history.csv, curves, previews)."""

import logging
import sys
from pathlib import Path

from dl_suite.errors import DataError, UserError
from dl_suite.io import write_text
from dl_suite.workflows import runs
from dl_suite.workflows.predict import load_run_config
from dl_suite.workflows.data import load_samples, require_split, split_pairs, split_validation

logger = logging.getLogger(__name__)


def _weight_map_kind(cfg):
    """The weight map the loss needs: the config's choice, else what a weighted loss implies."""
    chosen = cfg["generator"]["weight_map"]
    if chosen and chosen != "none":
        return chosen
    loss = cfg["model"]["loss"]
    if loss == "weighted_bce_dice":
        return "border"
    return "unet" if loss.startswith("weighted_") else None


def load_training_data(cfg):
    """(train_samples, val_samples) preprocessed as the config says; val may be split off."""
    settings = cfg["train"]
    train = load_samples(require_split(cfg, "train"), cfg,
                         ignore_dir=settings["ignore_datapath"], ignore_key="train.ignore_datapath")
    val_pairs = split_pairs(cfg, "val")
    if val_pairs is not None:
        return train, load_samples(val_pairs, cfg, ignore_dir=settings["val_ignore_datapath"],
                                   ignore_key="train.val_ignore_datapath")
    if settings["val_ignore_datapath"]:
        raise DataError("train.val_ignore_datapath is set but no validation folder is "
                        "(train.val_image_datapath / val_mask_datapath): validation images split "
                        "off the training images take their ignore masks from train.ignore_datapath.")
    if not cfg["train"]["dataset_splitter"]:
        return train, None
    return split_validation(train, cfg["train"]["validation_split"], cfg["train"]["seed"])


def patch_size(cfg):
    """Training patch (h, w): [generator] patch_size if set, else the model's input size."""
    size = cfg["generator"]["patch_size"]
    return tuple(size) if size else (cfg["model"]["image_height"], cfg["model"]["image_width"])


def make_datasets(cfg, train_samples, val_samples):
    """Keras PyDatasets for training (augmented, shuffled) and validation (plain, fixed)."""
    from dl_suite.data.dataset import SegmentationDataset, dataset_kwargs_from_config

    def dataset(samples, training):
        kwargs = dataset_kwargs_from_config(cfg, training=training)
        kwargs.update(patch_size=patch_size(cfg), weight_map=_weight_map_kind(cfg))
        return SegmentationDataset(samples[1], samples[2], **kwargs)

    return dataset(train_samples, True), (dataset(val_samples, False) if val_samples else None)


def build_compiled_model(cfg, channels, distribution=None):
    """Builds the configured model (fine-tuned from train.pretrained_weights if set) and compiles it.

    Args:
        distribution: the `distribution.Distribution` (its learning-rate rule); None = one device.
    """
    from dl_suite.callbacks import load_pretrained_weights
    from dl_suite.loss_setup import deep_supervision_losses, loss_params_from_config
    from dl_suite.losses import get_loss
    from dl_suite.metrics import get_metrics
    from dl_suite.models import build_model
    from dl_suite.optimizers import build_optimizer
    from dl_suite.precision import compile_options

    section = dict(cfg["model"])
    name = section.pop("name")
    num_classes = section.pop("num_classes")
    height, width = patch_size(cfg)
    model = build_model(name, (height, width, channels), num_classes, **section)
    if cfg["train"]["pretrained_weights"]:
        load_pretrained_weights(model, cfg["train"]["pretrained_weights"],
                                freeze_encoder=section["freeze_encoder"])
    train = cfg["train"]
    params = loss_params_from_config(section["loss"], {**section, **train})
    metrics = get_metrics(section["metrics"], num_classes=num_classes)
    learning_rate = section["learning_rate"]
    if distribution is not None:
        learning_rate = distribution.learning_rate(learning_rate, train["lr_scaling"])
    optimizer = build_optimizer(
        section["optimizer"], learning_rate,
        clipvalue=section["clipvalue"], clipnorm=section["clipnorm"], cfg=cfg,
    )
    names = list(model.output_names)
    options = compile_options(train)
    if len(names) == 1:
        model.compile(optimizer=optimizer, loss=get_loss(section["loss"], **params),
                      metrics=metrics, **options)
    else:
        losses, weights = deep_supervision_losses(
            section["loss"], len(names),
            aux_weights=train["deep_supervision_weights"], **params
        )
        model.compile(
            optimizer=optimizer, loss=dict(zip(names, losses)),
            loss_weights=dict(zip(names, weights)), metrics={names[0]: metrics}, **options,
        )
    if train["jit_compile"] == "auto" and not getattr(model, "jit_compile", True):
        logger.info("XLA is off for this training (jit_compile = 'auto': Keras keeps it off on "
                    "CPU-only TensorFlow and under tf.distribute). [train] jit_compile = 'fastest' "
                    "times the step with and without XLA on this machine and keeps the faster.")
    return model


def for_outputs(dataset, model):
    """The dataset as is for one output; for several, a PyDataset yielding {name: mask} targets."""
    names = list(model.output_names)
    if dataset is None or len(names) == 1:
        return dataset
    from dl_suite.data.multi_output import SameTargetPerOutput

    return SameTargetPerOutput(dataset, names)


def check_targets(cfg):
    """Config errors of the training targets, raised before a run folder is created."""
    from dl_suite.data.targets import target_num_classes

    target_num_classes(cfg["generator"]["target_type"], cfg["model"]["num_classes"])


def _training_inputs(cfg, run_dir):
    """(train_ds, val_ds, channels, preview samples); time-window models read videos."""
    from dl_suite.workflows.video_data import (is_video_model, load_video_training_data,
                                               make_video_datasets)

    if is_video_model(cfg["model"]["name"]):
        if cfg["train"]["ignore_datapath"] or cfg["train"]["val_ignore_datapath"]:
            raise DataError("train.ignore_datapath / val_ignore_datapath work for still-image "
                            f"models; '{cfg['model']['name']}' trains on time windows. Unset them.")
        train_videos, val_videos = load_video_training_data(cfg)
        logger.info(
            "Training on %d annotated frames of %d videos (windows of %d frames), validating on "
            "%d; run folder %s", train_videos.num_annotated(), len(train_videos.names),
            cfg["model"]["time_windows"], val_videos.num_annotated() if val_videos else 0, run_dir,
        )
        train_ds, val_ds = make_video_datasets(cfg, train_videos, val_videos,
                                               patch_size=patch_size(cfg),
                                               weight_map=_weight_map_kind(cfg))
        return train_ds, val_ds, train_videos.channels, ([], [], [])  # previews are 2-D only
    train_samples, val_samples = load_training_data(cfg)
    logger.info(
        "Training on %d images, validating on %d; run folder %s",
        len(train_samples[0]), len(val_samples[0]) if val_samples else 0, run_dir,
    )
    train_ds, val_ds = make_datasets(cfg, train_samples, val_samples)
    return train_ds, val_ds, train_samples[1][0].shape[-1], val_samples or train_samples


def _start_run(cfg, model_dir=None):
    """A new run folder under `model_dir` (default `train.model_dir`) with config and provenance."""
    import json

    from dl_suite.workflows.provenance import collect_provenance

    run_dir = runs.create_run(model_dir or cfg["train"]["model_dir"])
    write_text(run_dir / runs.CONFIG_FILE, cfg.to_json())
    provenance = collect_provenance(cfg)
    write_text(run_dir / runs.PROVENANCE_FILE, json.dumps(provenance, indent=2, default=str))
    logger.info("Provenance: %d input file(s) hashed in %.1f s.",
                len(provenance["inputs"]["files"]), provenance["inputs"]["seconds"])
    if cfg.source:
        runs.write_status(run_dir, "running", source_config=str(cfg.source))
    return run_dir


def train(cfg, *, resume=None):
    """Trains the configured model.

    Args:
        cfg: a validated Config.
        resume: a run folder to continue (from its last completed epoch), or None for a new run.

    Returns:
        The run folder; None on a worker that is not the chief of a multi-worker run (its
        outputs went to a scratch folder, now removed: the chief writes the run folder).
    """
    from dl_suite.distribution import make_distribution
    from dl_suite.precision import dtype_policy, resolve_precision

    # First: TensorFlow's multi-worker strategy must exist before its runtime starts.
    distribution = make_distribution(cfg["train"]["distribution"])
    distribution.check_batch_size(cfg["train"]["batch_size"])
    precision = resolve_precision(cfg["train"]["mixed_precision"])
    if distribution.is_chief:
        with distribution.scope(), dtype_policy(precision):
            return _train(cfg, resume, distribution, cfg["train"]["model_dir"], precision)
    from dl_suite.io.files import scratch_folder

    with scratch_folder(copy_of=resume) as scratch, distribution.scope(), dtype_policy(precision):
        _train(cfg, scratch if resume else None, distribution, scratch, precision)
    logger.info("Worker finished; the chief wrote the run folder.")
    return None


def _train(cfg, resume, distribution, model_dir, precision):
    """`train` on this process: a new run under `model_dir`, or the run `resume` continued."""
    from dl_suite.callbacks import load_resume_state, set_global_seed

    set_global_seed(cfg["train"]["seed"], cfg["train"]["deterministic"])
    check_targets(cfg)
    initial_epoch = 0
    if resume:
        run_dir = Path(resume)
        try:
            state = load_resume_state(run_dir)
        except ValueError as exc:  # a damaged or incomplete resume folder
            raise UserError(f"Cannot resume '{run_dir}': {exc}") from exc
        if state is None:
            raise UserError(f"'{run_dir}' holds no resumable state (no epoch finished yet). Start a new run instead.")
        saved = load_run_config(run_dir)
        if dict(saved["model"]) != dict(cfg["model"]):
            logger.warning("The config's [model] differs from the run's; continuing with the run's model.")
        initial_epoch = state["epoch"]
        if initial_epoch >= cfg["train"]["epochs"]:
            logger.info("Run %s already finished %d epochs.", run_dir, initial_epoch)
            return run_dir
        _check_time_left(cfg["train"], run_dir, state)
        _check_same_averaging(cfg["train"], run_dir, state)
        logger.info("Resuming %s after epoch %d.", run_dir, initial_epoch)
    else:
        run_dir = _start_run(cfg, model_dir)
        state = None
    runs.write_status(run_dir, "running", epochs_planned=cfg["train"]["epochs"],
                      precision=precision.describe(), replicas=distribution.num_replicas)
    try:
        return _fit(cfg, run_dir, state, initial_epoch, distribution)
    except KeyboardInterrupt:
        runs.write_status(run_dir, "interrupted")
        raise
    except Exception as exc:
        # e.g. unreadable data or a model that cannot be built: never left "running"
        runs.write_status(run_dir, "failed", error=f"{type(exc).__name__}: {exc}"[:2000])
        raise


def _check_time_left(train, run_dir, state):
    """A resumed run keeps its time budget (`train.max_train_minutes` counts all sessions):
    refuses, with what to do, when the budget has no room left for one more epoch."""
    from dl_suite.callbacks import seconds_trained

    minutes, spent = train.get("max_train_minutes"), seconds_trained(state)
    if not minutes or not spent:
        return
    epoch_seconds = spent / max(1, int(state["epoch"]))
    if spent + epoch_seconds > 60.0 * minutes:
        raise UserError(
            f"Run '{run_dir}' has trained {spent / 60:.1f} min of its {minutes:g}-minute time "
            f"budget (train.max_train_minutes), not enough for another epoch of about "
            f"{epoch_seconds / 60:.1f} min. To train it longer, raise the budget, e.g. "
            f"--set train.max_train_minutes={int(minutes + max(10, minutes / 2))}.")
    logger.info("Time budget: %.1f of %g min used, %.1f min left.", spent / 60, minutes,
                minutes - spent / 60)


def _check_same_averaging(train, run_dir, state):
    """A run cannot switch weight averaging (`train.ema_momentum`) on or off half-way: its
    optimiser, saved in the resume state, keeps the average or does not."""
    optimizer = getattr(state["model"], "optimizer", None)
    used = bool(getattr(optimizer, "use_ema", False))
    if used == bool(train.get("ema_momentum")):
        return
    momentum = f"{float(optimizer.ema_momentum):g}" if used else "None"
    raise UserError(
        f"Run '{run_dir}' was trained {'with' if used else 'without'} weight averaging "
        f"(train.ema_momentum = {momentum}) and the config says "
        f"{train.get('ema_momentum')}; a run cannot switch it half-way. Resume with "
        f"--set train.ema_momentum={momentum}, or start a new run.")


def _choose_jit_compile(cfg, run_dir, state, model, train_ds, distribution):
    """`train.jit_compile = "fastest"`: XLA on or off as timed on one batch (a resumed run keeps
    the choice it started with); the choice goes to the run's status."""
    from dl_suite.precision import choose_jit_compile

    started = runs.read_status(run_dir) if state is not None else {}
    chosen = choose_jit_compile(
        cfg["train"], model, for_outputs(train_ds, model)[0],
        distributed=distribution.num_replicas > 1,
        earlier=started.get("jit_compile") if started.get("jit_compile_rule") else None)
    if chosen:
        runs.write_status(run_dir, "running", **chosen)


def _fit(cfg, run_dir, state, initial_epoch, distribution):
    """Loads the data, builds (or continues) the model and fits it; returns the run folder."""
    from dl_suite.callbacks import build_callbacks

    train_ds, val_ds, channels, shown = _training_inputs(cfg, run_dir)
    # Resume continues the data order and augmentation streams: batch i of epoch e is drawn
    # from the seed (seed, e, i), so the dataset starts at the first epoch still to run.
    train_ds.epoch = initial_epoch
    if state is None:
        runs.write_status(run_dir, "running", input_shape=[*patch_size(cfg), int(channels)])
        try:
            model = build_compiled_model(cfg, channels, distribution)
        except ValueError as exc:  # bad option combinations, missing weights files
            raise UserError(f"Cannot build the configured model: {exc}") from exc
        if cfg["model"]["show_summary"]:
            model.summary(print_fn=logger.info)
    else:
        model = state["model"]
    if cfg["train"]["jit_compile"] == "fastest":
        _choose_jit_compile(cfg, run_dir, state, model, train_ds, distribution)
    count = cfg["train"]["num_infer_images"]
    callbacks = build_callbacks(
        run_dir, cfg, preview_images=shown[1][:count], preview_masks=shown[2][:count],
        has_validation=val_ds is not None, resume_state=state,
        learning_rate=distribution.learning_rate(cfg["model"]["learning_rate"],
                                                 cfg["train"]["lr_scaling"]),
    )
    verbose = 1 if sys.stderr.isatty() else 2
    from dl_suite.robustness.training import robust_training_dataset  # [robustness] training

    train_ds = robust_training_dataset(cfg["robustness"], train_ds, model, seed=cfg["train"]["seed"])
    history = model.fit(
        for_outputs(train_ds, model), validation_data=for_outputs(val_ds, model),
        epochs=cfg["train"]["epochs"], initial_epoch=initial_epoch, callbacks=callbacks,
        verbose=verbose,
        # The dataset shuffles itself from (seed, epoch); Keras' own batch shuffle draws from
        # the global `random` state, which a resumed process cannot continue.
        shuffle=False,
    )
    stopped = getattr(model, "stop_training", False)
    done = initial_epoch + len(history.epoch)
    runs.write_status(run_dir, "complete", epochs_done=done, stopped_early=bool(stopped))
    return run_dir
