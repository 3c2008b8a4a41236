"""Data-parallel training on the backend's own engine (`[train] distribution`).

- `none`: one device (the default).
- `mirrored`: every local device. TensorFlow: `tf.distribute.MirroredStrategy` over the GPUs (or
  the logical CPU devices when there is no GPU); JAX: `keras.distribution.DataParallel`.
- `multi_worker`: TensorFlow only, `tf.distribute.MultiWorkerMirroredStrategy` over the cluster
  that the `TF_CONFIG` environment variable of each process describes.

`train.batch_size` is the global batch: each step takes `batch_size` images, split evenly over the
replicas (so it must be divisible by their number). `train.lr_scaling = "linear"` multiplies
`model.learning_rate` by the number of replicas (use it when you multiplied `batch_size` by the
number of replicas to keep a single-device run's per-device batch); `"none"` keeps it.
Only the chief writes the run folder: the other workers write into a scratch folder that is
removed when they finish.
"""

import contextlib
import json
import logging
import os
from dataclasses import dataclass, field

from dl_suite.errors import UserError

logger = logging.getLogger(__name__)

DISTRIBUTIONS = ("none", "mirrored", "multi_worker")
LR_SCALINGS = ("none", "linear")


@dataclass(frozen=True)
class Distribution:
    """A chosen distribution: how many replicas, whether this process writes the run folder.

    Args:
        name: one of `DISTRIBUTIONS`.
        num_replicas: replicas in sync (all workers together).
        is_chief: this process writes the run folder and checkpoints.
        strategy: the `tf.distribute.Strategy`, the `keras.distribution.Distribution`, or None.
    """

    name: str = "none"
    num_replicas: int = 1
    is_chief: bool = True
    strategy: object = field(default=None, compare=False)

    def scope(self):
        """Context in which the model is built, compiled and fitted."""
        if self.strategy is None:
            return contextlib.nullcontext()
        return self.strategy.scope()

    def check_batch_size(self, batch_size):
        """Raises UserError unless the global batch splits evenly over the replicas."""
        if batch_size % self.num_replicas:
            lower = batch_size - batch_size % self.num_replicas
            raise UserError(
                f"Received train.batch_size={batch_size} with distribution='{self.name}' over "
                f"{self.num_replicas} replicas; the global batch must be divisible by the number "
                f"of replicas. To fix: set train.batch_size to a multiple of {self.num_replicas} "
                f"(e.g. {max(lower, self.num_replicas)} or {lower + self.num_replicas})."
            )

    def learning_rate(self, base, rule):
        """The learning rate after the scaling rule (`LR_SCALINGS`)."""
        return base * self.num_replicas if rule == "linear" else base


def make_distribution(name, backend=None):
    """Creates the distribution named in the config for the active Keras backend.

    Call it before anything else runs on the backend: TensorFlow's multi-worker strategy must
    be created before the runtime starts.

    Raises:
        UserError: a name the backend does not offer, or a missing / invalid `TF_CONFIG`.
    """
    if name not in DISTRIBUTIONS:
        raise UserError(f"Received train.distribution='{name}', expected one of {', '.join(DISTRIBUTIONS)}.")
    if name == "none":
        return Distribution()
    if backend is None:
        import keras

        backend = keras.backend.backend()
    if backend == "tensorflow":
        return _tensorflow(name)
    if backend == "jax" and name == "mirrored":
        return _jax_data_parallel()
    offered = {"jax": "'none' or 'mirrored' (keras.distribution.DataParallel on one host)"}
    raise UserError(
        f"Received train.distribution='{name}', which the '{backend}' backend does not offer "
        f"here. It offers {offered.get(backend, 'only none')}; 'multi_worker' needs the "
        "TensorFlow backend (KERAS_BACKEND=tensorflow) and a TF_CONFIG on every node."
    )


def _tensorflow(name):
    import tensorflow as tf

    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        strategy = tf.distribute.MirroredStrategy(devices=[d.name for d in devices])
        if len(devices) == 1:
            logger.warning("distribution='mirrored' found a single device (%s): training on "
                           "one replica.", devices[0].name)
        return Distribution(name, strategy.num_replicas_in_sync, True, strategy)
    _check_tf_config(os.environ.get("TF_CONFIG"))
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    install_keras_multi_worker_fixes()
    is_chief = bool(strategy.extended.should_checkpoint)
    resolver = strategy.cluster_resolver
    logger.info("Multi-worker training: %s %s of %d replica(s)%s.", resolver.task_type,
                resolver.task_id, strategy.num_replicas_in_sync, " (chief)" if is_chief else "")
    return Distribution(name, strategy.num_replicas_in_sync, is_chief, strategy)


def _check_tf_config(text):
    how = ('Set it on every node, e.g. TF_CONFIG=\'{"cluster": {"worker": ["node1:12345", '
           '"node2:12345"]}, "task": {"type": "worker", "index": 0}}\' (index 1 on node2).')
    if not text:
        raise UserError(f"train.distribution='multi_worker' needs the TF_CONFIG environment variable. {how}")
    try:
        config = json.loads(text)
        workers = config["cluster"]
        task = config["task"]
        known = len(workers.get(task["type"], []))
        if not 0 <= int(task["index"]) < known:
            raise ValueError(f"task {task} is not in the cluster")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(f"Cannot use TF_CONFIG='{text}': {exc}. {how}") from exc


def _jax_data_parallel():
    import keras

    devices = keras.distribution.list_devices()
    distribution = keras.distribution.DataParallel(devices=devices)
    return Distribution("mirrored", len(devices), True, distribution)


_FIXED = []


def install_keras_multi_worker_fixes():
    """Works around two Keras 3 bugs that stop `fit` under `MultiWorkerMirroredStrategy`.

    keras-team/keras#20585: (1) the first batch of a distributed dataset is reduced with an
    eager cross-worker `reduce` just to learn its shapes, which fails; one local replica's
    batch gives the same shapes. (2) Per-replica scalar logs (loss, metrics) are averaged with
    `reduce(..., axis=0)`, which fails on scalars; `axis=None` averages them over the replicas.
    Both changes apply only under a multi-worker strategy; installed once per process.
    """
    if _FIXED:
        return
    import tensorflow as tf
    from keras.src import tree
    from keras.src.backend.tensorflow import trainer

    reduce_per_replica = trainer.reduce_per_replica

    def reduce_fixed(values, strategy, reduction):
        if reduction in ("auto", "mean") and trainer._collective_all_reduce_multi_worker(strategy):
            return tree.map_structure(
                lambda v: strategy.reduce("MEAN", v, axis=None)
                if trainer._is_per_replica_instance(v) else v, values)
        return reduce_per_replica(values, strategy, reduction)

    symbolic_build = trainer.TensorFlowTrainer._maybe_symbolic_build

    def symbolic_build_fixed(self, iterator=None, data_batch=None):
        strategy = self._distribute_strategy
        if iterator is None or not trainer._collective_all_reduce_multi_worker(strategy):
            return symbolic_build(self, iterator=iterator, data_batch=data_batch)
        for _, _, it in iterator:
            data_batch = tree.map_structure(
                lambda v: strategy.experimental_local_results(v)[0]
                if isinstance(v, tf.distribute.DistributedValues) else v, next(it))
            break
        with strategy.scope():
            self._symbolic_build(data_batch=data_batch)

    trainer.reduce_per_replica = reduce_fixed
    trainer.TensorFlowTrainer._maybe_symbolic_build = symbolic_build_fixed
    _FIXED.append(True)
