"""Paired image/mask augmentation (see `ImageMaskAugmentor`)."""

from dl_suite.data.augment import geometric, photometric  # noqa: F401  (registers the ops)
from dl_suite.data.augment.augmentor import (  # noqa: F401
    OP_NAMES,
    ImageMaskAugmentor,
    build_augmentor,
    default_augmentor,
    from_config,
)
from dl_suite.data.augment.base import AUGMENTATIONS  # noqa: F401
from dl_suite.data.augment.geometric import CoordinateMap  # noqa: F401
