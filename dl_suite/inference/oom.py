"""Out-of-memory back-off: halve the tile batch instead of crashing, and log what worked."""

import logging

logger = logging.getLogger(__name__)

# Exception class names raised by the backends when memory runs out (matched by name so this
# module imports neither TensorFlow nor JAX nor PyTorch).
OOM_CLASS_NAMES = frozenset(
    {"MemoryError", "ResourceExhaustedError", "OutOfMemoryError", "ArrayMemoryError"}
)
OOM_MESSAGES = ("RESOURCE_EXHAUSTED", "out of memory", "OOM when allocating")


def is_out_of_memory(exc):
    """True if `exc` (or its class hierarchy) signals an out-of-memory condition."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & OOM_CLASS_NAMES:
        return True
    # JAX/XLA wrap allocation failures in XlaRuntimeError / JaxRuntimeError with this text.
    text = str(exc)
    return any(name.endswith("RuntimeError") for name in names) and any(
        m in text for m in OOM_MESSAGES
    )


class BatchSizeController:
    """Runs a predictor on a batch, halving the batch size after each out-of-memory error.

    The reduced size is kept for later batches (and later frames when the controller is
    shared), and logged so the user can set it in the config next time.

    Args:
        batch_size: the initial number of tiles per predictor call (>= 1).
    """

    def __init__(self, batch_size):
        batch_size = int(batch_size)
        if batch_size < 1:
            raise ValueError(
                f"Received `batch_size={batch_size}`, expected an integer >= 1. To fix, set "
                "`batch_size` in the [tiledinfer] section to 1 or more."
            )
        self.initial = batch_size
        self.batch_size = batch_size

    def run(self, predict, batch):
        """Predicts the first `batch_size` items of `batch` (fewer after an OOM).

        Returns:
            (predictions, number of items of `batch` predicted).

        Raises:
            MemoryError: even one tile does not fit; the message says what to reduce.
        """
        while True:
            size = min(self.batch_size, len(batch))
            try:
                return predict(batch[:size]), size
            except Exception as exc:  # noqa: BLE001 - only OOM is handled, others re-raised
                if not is_out_of_memory(exc):
                    raise
                if size <= 1:
                    raise MemoryError(
                        f"Out of memory predicting a single tile of shape {batch.shape[1:]} "
                        f"({type(exc).__name__}). To fix, reduce `tile_size` in the "
                        "[tiledinfer] section (e.g. halve it) or use a smaller model."
                    ) from exc
                self.batch_size = max(1, size // 2)
                logger.warning(
                    "Out of memory with %d tiles per batch (%s); retrying with %d.",
                    size,
                    type(exc).__name__,
                    self.batch_size,
                )

    def report(self):
        """Logs the batch size that worked if it had to be reduced."""
        if self.batch_size < self.initial:
            logger.warning(
                "Tiled inference ran with batch_size=%d (configured %d). Set `batch_size = %d` "
                "in [tiledinfer] to avoid the retries.",
                self.batch_size,
                self.initial,
                self.batch_size,
            )
