"""Robustness assay: corruptions at controlled SNR, adversarial attacks, robustness reports."""

from dl_suite.robustness.corruptions import CORRUPTIONS, SNR_LEVELS, corrupt  # noqa: F401
from dl_suite.robustness.snr import measured_snr  # noqa: F401
