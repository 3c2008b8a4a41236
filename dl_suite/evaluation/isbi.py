"""ISBI 2012 EM membrane metrics: foreground-restricted V_Rand and V_Info after border thinning.

Following Arganda-Carreras et al. (2015, Front. Neuroanat. 9:142) and the challenge's Fiji
script:
1. The true mask (1/255 = cell interior, 0 = membrane) and the thresholded prediction are turned
   into cell segmentations: membrane pixels are thinned to a one-pixel skeleton
   (`skimage.morphology.skeletonize`) and the cells are the 4-connected components of
   everything else.
2. Prediction skeleton pixels are given to the nearest cell (`expand_labels`), so that
   thin predicted borders are not a segment of their own.
3. Scoring is restricted to the true foreground: true skeleton pixels are ignored.
4. From the joint distribution p_ij of true segment i and predicted segment j:
   V_Rand = sum p_ij^2 / (0.5 sum_i s_i^2 + 0.5 sum_j t_j^2), with s, t the marginals,
   counted over pairs of distinct pixels (= 1 - `skimage.metrics.adapted_rand_error`);
   V_Info = I(S; T) / (0.5 H(S) + 0.5 H(T)), the normalised mutual information
   (entropies in nats; H(S|T) is `skimage.metrics.variation_of_information`).
Both are 1 for a perfect segmentation. The challenge maximises them over thresholds of the
probability map; `isbi_scores` returns the curves and their maxima.
"""

import numpy as np
from skimage import measure, morphology, segmentation

DEFAULT_ISBI_THRESHOLDS = tuple(np.round(np.arange(0.1, 0.91, 0.1), 2))


def cells_from_interior(interior, grow_into_borders=False):
    """Cell labels from an interior mask after thinning its membrane to a skeleton.

    Returns:
        int32 labels with 0 on the membrane skeleton (unless `grow_into_borders`).
    """
    interior = np.asarray(interior).astype(bool)
    skeleton = morphology.skeletonize(~interior)
    labels = measure.label(~skeleton, connectivity=1).astype(np.int32)
    if grow_into_borders:
        labels = segmentation.expand_labels(labels, distance=2)
    return labels


def joint_table(true_labels, pred_labels):
    """Contingency table (pixel counts) of true (rows) and predicted (columns) labels,
    ignoring pixels where the true label is 0."""
    keep = true_labels.ravel() > 0
    true = np.unique(true_labels.ravel()[keep], return_inverse=True)[1]
    pred = np.unique(pred_labels.ravel()[keep], return_inverse=True)[1]
    if true.size == 0:
        return np.zeros((0, 0))
    table = np.bincount(true * (pred.max() + 1) + pred,
                        minlength=(true.max() + 1) * (pred.max() + 1))
    return table.reshape(true.max() + 1, pred.max() + 1).astype(float)


def _entropy(p):
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def rand_and_info(true_labels, pred_labels):
    """(V_Rand, V_Info) of two segmentations, restricted to true labels > 0."""
    counts = joint_table(true_labels, pred_labels)
    if counts.size == 0:
        return 1.0, 1.0
    n = counts.sum()
    rows, cols = counts.sum(1), counts.sum(0)
    # Pairs of distinct pixels (self-pairs excluded), as skimage and the SNEMI3D script count.
    same_both = (counts**2).sum() - n
    same_true, same_pred = (rows**2).sum() - n, (cols**2).sum() - n
    denominator = 0.5 * same_true + 0.5 * same_pred
    v_rand = 1.0 if denominator == 0 else same_both / denominator
    p, s, t = counts / n, rows / n, cols / n
    h_s, h_t = _entropy(s), _entropy(t)
    mutual = h_s + h_t - _entropy(p.ravel())
    v_info = 1.0 if h_s + h_t == 0 else mutual / (0.5 * (h_s + h_t))
    return float(v_rand), float(v_info)


def isbi_scores(prob, true_interior, thresholds=DEFAULT_ISBI_THRESHOLDS):
    """ISBI 2012 scores of one image, maximised over thresholds.

    Args:
        prob: (H, W[, 1]) probability of cell interior (the model's foreground).
        true_interior: (H, W[, 1]) true mask, interior > 0 (1 or 255), membrane 0.
        thresholds: thresholds of `prob` to try.

    Returns:
        dict: `v_rand`, `v_info` (maxima), `v_rand_threshold`, `v_info_threshold`, and
        `v_rand_curve`, `v_info_curve` (lists, one value per threshold) for dataset-level
        maximisation (maximise the mean curve over images, as the challenge did).
    """
    prob = np.asarray(prob, dtype=np.float32)
    true_interior = np.asarray(true_interior)
    if prob.ndim == 3:
        prob = prob[..., 0]
    if true_interior.ndim == 3:
        true_interior = true_interior[..., 0]
    if prob.shape != true_interior.shape:
        raise ValueError(
            f"Received a probability map of shape {prob.shape} and a mask of shape "
            f"{true_interior.shape}; expected equal shapes."
        )
    true_labels = cells_from_interior(true_interior > 0)
    rands, infos = [], []
    for threshold in thresholds:
        pred_labels = cells_from_interior(prob >= threshold, grow_into_borders=True)
        v_rand, v_info = rand_and_info(true_labels, pred_labels)
        rands.append(v_rand)
        infos.append(v_info)
    best_rand, best_info = int(np.argmax(rands)), int(np.argmax(infos))
    return {
        "v_rand": rands[best_rand], "v_rand_threshold": float(thresholds[best_rand]),
        "v_info": infos[best_info], "v_info_threshold": float(thresholds[best_info]),
        "v_rand_curve": rands, "v_info_curve": infos,
    }
