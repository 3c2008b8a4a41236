"""Cell tracking: link the objects of a label video over time (laptrack), measure them, and
export TrackMate XML, CTC results and label hyperstacks (through `dl_suite.io`).

    tracks = track_labels(labels, TrackingParams(max_gap=1), scale_from_calibration(calibration))
"""

from dl_suite.tracking.linking import TrackingParams, track_labels  # noqa: F401
from dl_suite.tracking.spots import Scale, scale_from_calibration  # noqa: F401
from dl_suite.tracking.tracks import Tracks, track_table  # noqa: F401
