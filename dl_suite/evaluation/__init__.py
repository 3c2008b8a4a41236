"""Evaluation: pure numpy/scipy/scikit-image scores, threshold optimisation, reports.

Typical use (what `dl_suite.workflows.evaluate` does)::

    rows, summary = evaluate_images(probs, masks, names, threshold=t, min_size=s,
                                    scores=("pixel", "instance", "isbi"))
    write_report(out_dir, rows, summary, overlays=[(n, overlay(img, m > 0, binarize(p, t, s)))
                                                   for n, img, m, p in few])
"""

from dl_suite.evaluation.instance import (  # noqa: F401
    DEFAULT_IOU_THRESHOLDS,
    instance_labels,
    instance_scores,
    iou_matrix,
)
from dl_suite.evaluation.isbi import DEFAULT_ISBI_THRESHOLDS, isbi_scores, rand_and_info  # noqa: F401
from dl_suite.evaluation.pixel import binarize, pixel_scores, remove_small  # noqa: F401
from dl_suite.evaluation.report import overlay, rows_to_csv, write_report  # noqa: F401
from dl_suite.evaluation.scorecard import SCORE_FAMILIES, evaluate_images, mean_row  # noqa: F401
from dl_suite.evaluation.threshold import (  # noqa: F401
    THRESHOLD_METRICS,
    load_threshold,
    optimise_threshold,
    save_threshold,
)
