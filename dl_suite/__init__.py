"""dl-suite: config-file-driven deep learning for microscopy image segmentation."""

__version__ = "0.1.0"
