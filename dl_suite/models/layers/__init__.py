"""Custom serializable layers of dl-suite (registered under the "dl_suite" package)."""

from dl_suite.models.layers.filters import SharpenFilter
from dl_suite.models.layers.pooling import AdaptiveAveragePooling2D, MaxUnpooling2D
from dl_suite.models.layers.time import FoldTime, SelectFrame, UnfoldTime
from dl_suite.models.layers.transformer import PositionEmbedding, SwinTransformerBlock

__all__ = [
    "AdaptiveAveragePooling2D", "FoldTime", "MaxUnpooling2D", "PositionEmbedding",
    "SelectFrame", "SharpenFilter", "SwinTransformerBlock", "UnfoldTime",
]
