"""Segmentation losses: pure `keras.ops` functions plus thin serializable `Loss` classes.

Modules: `targets` (what `y_true` holds, shared reductions), `functions` (the pure losses),
`classes` (the `Loss` classes, the LOSSES registry, `get_loss`), `legacy` (the INI tool's
BCE + IoU and SSIM losses).

Data conventions (fixed by the team):
- `y_pred` is (B, H, W, 1) sigmoid probabilities (binary) or (B, H, W, C) softmax
  probabilities (multi-class).
- `y_true` is (B, H, W, 1) with the target (0/1, or the sparse class index 0..C-1), optionally
  followed by a second channel holding a per-pixel weight map: (B, H, W, 2). Weighted losses
  (`weighted_bce`, `weighted_bce_dice`, `categorical_cce`) multiply the per-pixel loss by that
  map; every other loss ignores it. One-hot targets are made internally.
- A target of -1 (`dl_suite.data.ignore.IGNORE_TARGET`) marks an ignored pixel: every loss
  counts it as perfectly predicted background, so it adds nothing to an overlap term and passes
  no gradient; pixel means (cross-entropy, focal) are taken over the other pixels only.

Every function returns one value per image, shape (B,); the `Loss` classes then average over the
batch. Overlap losses (dice, iou, tversky) use `smooth` in numerator and denominator, so an empty
mask predicted as empty gives a loss of 0 and every edge case stays finite.
"""

from dl_suite.losses.classes import (
    LOSSES, BASNetHybridLoss, BCEDiceLoss, BinaryCrossEntropy, CategoricalCrossEntropy, DiceLoss,
    FocalLoss, FocalTverskyLoss, FunctionLoss, IoULoss, SparseCategoricalCrossEntropy, TverskyLoss,
    WeightedBCEDiceLoss, WeightedBinaryCrossEntropy, accepted_params, get_loss, register_loss,
)
from dl_suite.losses.functions import (
    basnet_hybrid_loss, bce, bce_dice_loss, dice_loss, focal_loss, focal_tversky_loss, iou_loss,
    sparse_cce, ssim_per_image, tversky_index, tversky_loss, weighted_bce_dice_loss,
    weighted_cross_entropy,
)
from dl_suite.losses.legacy import BCEIoULoss, SSIMLoss, bce_iou_loss, ssim_loss
from dl_suite.losses.targets import EPSILON, scored_pixels, split_target, target_probabilities
