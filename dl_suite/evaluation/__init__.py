"""Evaluation: pure numpy/scipy/scikit-image scores, threshold optimisation, reports.

Typical use (what `dl_suite.workflows.evaluate` does)::

    segment = run_postprocess(cfg, run_dir)     # dl_suite.workflows.postprocessing
    masks, labels = zip(*(segment(p)[1:] for p in probs))   # what infer writes
    rows, summary = evaluate_images(masks, trues, names, labels=labels,
                                    scores=("pixel", "instance", "isbi"))
    write_report(out_dir, rows, summary, overlays=[(n, overlay(img, t > 0, m))
                                                   for n, img, t, m in few])
"""

from dl_suite.evaluation.annotation_audit import KINDS as AUDIT_KINDS, audit_annotation  # noqa: F401
from dl_suite.evaluation.boundary import boundary_counts, boundary_summary  # noqa: F401
from dl_suite.evaluation.classical import gaussian_otsu  # noqa: F401
from dl_suite.evaluation.errors import CAUSES, instance_errors  # noqa: F401
from dl_suite.evaluation.instance import (  # noqa: F401
    DEFAULT_IOU_THRESHOLDS,
    instance_labels,
    instance_scores,
    iou_matrix,
    true_objects,
)
from dl_suite.evaluation.isbi import (  # noqa: F401
    DEFAULT_ISBI_THRESHOLDS,
    isbi_scores,
    isbi_table,
    rand_and_info,
    scores_from_tables,
)
from dl_suite.evaluation.pixel import binarize, label_scores, pixel_scores, remove_small  # noqa: F401
from dl_suite.evaluation.report import overlay, rows_to_csv, write_report  # noqa: F401
from dl_suite.evaluation.scorecard import (  # noqa: F401
    SCORE_FAMILIES,
    class_map,
    evaluate_images,
    mean_row,
)
from dl_suite.evaluation.threshold import (  # noqa: F401
    THRESHOLD_METRICS,
    best_grid_row,
    load_threshold,
    optimise_threshold,
    read_threshold_file,
    save_threshold,
)
