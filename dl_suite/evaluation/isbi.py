"""ISBI 2012 EM membrane metrics: foreground-restricted V_Rand and V_Info after border thinning.

Convention (Arganda-Carreras et al. 2015, Front. Neuroanat. 9:142, and the ISBI 2012 scripts):
1. Thinning: in the true mask and in the predicted mask (1 = cell interior, 0 = membrane) the
   membrane is thinned to a one-pixel skeleton (`skimage.morphology.skeletonize`); the cells
   are the 4-connected components of everything else. The image border counts as membrane
   while thinning (the mask is padded by one membrane pixel, thinned, and cropped): a membrane
   that reaches the border stays attached to it. Without this, thinning pulls the end of every
   membrane band away from the border and the cells along the border join into one (on ISBI
   slice 19 that made 18 true cells, 27 to 21,485 px, one "true cell").
2. True skeleton pixels are not scored (foreground restriction).
3. Predicted skeleton pixels are given to a cell: each takes the largest label among its 8
   neighbours, repeated until none is left (the `thin_boundaries` rule of the ISBI 2012 Python
   scripts), so predicted borders are never a segment of their own.
4. With p_ij the fraction of scored pixels in true cell i and predicted cell j, s_i and t_j its
   marginals (pixel pairs drawn with replacement, equations 3 and 6 with alpha = 0.5):
   V_Rand = sum p_ij^2 / (0.5 sum s_i^2 + 0.5 sum t_j^2),
   V_Info = I(S; T) / (0.5 H(S) + 0.5 H(T)) (entropies in nats). Both are 1 when perfect.
5. Over a set of images ("pooled"): V_Rand from the pixel pairs within each image summed over
   images; V_Info from each image's I(S; T), H(S), H(T) weighted by its share of the scored
   pixels (entropies conditioned on the image).

A harsher reading, `v_rand_cc` = 1 - adapted Rand error (`skimage.metrics.adapted_rand_error`,
true label 0 ignored) between the 4-connected components of the true and the predicted
interiors, without thinning: 2 (sum n_ij^2 - N) / (sum a_i^2 - N + sum b_j^2 - N) with pixel
pairs drawn without replacement, as skimage counts them. Predicted membrane pixels inside a
true cell form one segment of their own (per image when pooled: the sums run over images), so
a thick or spurious predicted membrane costs as much as a gap that joins two cells.

`v_rand_both`, a threshold-tuning metric only, is the lower of V_Rand and `v_rand_cc`: V_Rand
rises with the threshold (fewer gaps) while `v_rand_cc` falls (thicker membranes), so its best
threshold is where both readings hold, not a jump of V_Rand from one closed gap at a threshold
that thickens every membrane.
"""

import numpy as np
from scipy import ndimage as ndi
from skimage import measure, morphology

DEFAULT_ISBI_THRESHOLDS = tuple(np.round(np.arange(0.1, 0.91, 0.1), 2))
# tuning metrics that are the lower of two readings
LOWER_OF = {"v_rand_both": ("v_rand", "v_rand_cc")}


def _plane(array):
    array = np.asarray(array)
    return array[..., 0] if array.ndim == 3 else array


def cells_from_interior(interior, grow_into_borders=False):
    """Cell labels from an interior mask after thinning its membrane to a skeleton.

    Args:
        interior: (H, W) bool, True = cell interior.
        grow_into_borders: give every skeleton pixel the largest label among its 8
            neighbours, repeatedly, until no skeleton pixel is left (prediction rule).

    Returns:
        int32 labels, 0 on the membrane skeleton unless `grow_into_borders`.
    """
    interior = np.pad(np.asarray(interior).astype(bool), 1, constant_values=False)
    skeleton = morphology.skeletonize(~interior)[1:-1, 1:-1]
    labels = measure.label(~skeleton, connectivity=1).astype(np.int32)
    if grow_into_borders:
        if labels.max() == 0:
            return np.ones_like(labels)
        while (labels == 0).any():
            zeros = labels == 0
            labels[zeros] = ndi.maximum_filter(labels, size=3)[zeros]
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


def scores_from_tables(tables):
    """(V_Rand, V_Info) of one or several contingency tables, pooled over images.

    Pooled V_Rand counts pixel pairs within each image (pairs across images are in no
    segment of either); pooled V_Info uses entropies conditioned on the image, i.e. each
    image's I, H(S), H(T) weighted by its share of scored pixels, so knowing which image a
    pixel comes from earns nothing. Returns (1.0, 1.0) when no pixel is scored.
    """
    cells = [np.asarray(t, float) for t in tables if np.asarray(t).size]
    if not cells:
        return 1.0, 1.0
    n = sum(t.sum() for t in cells)
    same_both = same_true = same_pred = mutual = h_s = h_t = 0.0
    for table in cells:
        rows, cols, weight = table.sum(1), table.sum(0), table.sum() / n
        same_both += (table**2).sum()
        same_true += (rows**2).sum()
        same_pred += (cols**2).sum()
        p, s, t = table / table.sum(), rows / table.sum(), cols / table.sum()
        h_s_k, h_t_k = _entropy(s), _entropy(t)
        mutual += weight * (h_s_k + h_t_k - _entropy(p.ravel()))
        h_s += weight * h_s_k
        h_t += weight * h_t_k
    v_rand = same_both / (0.5 * same_true + 0.5 * same_pred)
    v_info = 1.0 if h_s + h_t == 0 else mutual / (0.5 * (h_s + h_t))
    return float(v_rand), float(v_info)


def rand_and_info(true_labels, pred_labels):
    """(V_Rand, V_Info) of two label images, restricted to true labels > 0."""
    return scores_from_tables([joint_table(np.asarray(true_labels), np.asarray(pred_labels))])


def isbi_table(pred_mask, true_interior, ignore=None):
    """The scored contingency table of one image (see the module docstring).

    Args:
        pred_mask: (H, W[, 1]) predicted cell interior (bool or 0/1), e.g. the mask infer wrote.
        true_interior: (H, W[, 1]) true mask, interior > 0 (1 or 255), membrane 0.
        ignore: optional (H, W) bool: pixels not scored (cells are still found on the whole
            image, then these pixels are left out of the table).

    Raises:
        ValueError: the shapes differ.
    """
    pred_mask, true_interior = _planes(pred_mask, true_interior)
    true_labels = _unscored(cells_from_interior(true_interior > 0), ignore)
    pred_labels = cells_from_interior(pred_mask > 0, grow_into_borders=True)
    return joint_table(true_labels, pred_labels)


def _unscored(true_labels, ignore):
    """True labels with the ignored pixels set to 0 (not scored)."""
    if ignore is None:
        return true_labels
    ignore = _plane(ignore).astype(bool)
    if ignore.shape != true_labels.shape:
        raise ValueError(f"Received an ignore mask of shape {ignore.shape} for masks of shape "
                         f"{true_labels.shape}; expected the same shape.")
    return np.where(ignore, 0, true_labels)


def _planes(pred_mask, true_interior):
    """Both masks as 2D planes; ValueError when their shapes differ."""
    pred_mask, true_interior = _plane(pred_mask), _plane(true_interior)
    if pred_mask.shape != true_interior.shape:
        raise ValueError(
            f"Received a predicted mask of shape {pred_mask.shape} and a true mask of shape "
            f"{true_interior.shape}; expected equal shapes."
        )
    return pred_mask, true_interior


def isbi_scores(pred_mask, true_interior, ignore=None):
    """V_Rand, V_Info and the harsher `v_rand_cc` of one predicted mask (dict); `ignore`: pixels
    not scored."""
    v_rand, v_info = scores_from_tables([isbi_table(pred_mask, true_interior, ignore)])
    v_rand_cc = adapted_rand([components_table(pred_mask, true_interior, ignore)])
    return {"v_rand": v_rand, "v_info": v_info, "v_rand_cc": v_rand_cc}


def pooled_isbi_score(pred_masks, true_interiors, metric, ignores=None):
    """`metric` ("v_rand", "v_info", "v_rand_cc" or "v_rand_both") pooled over images, as
    `evaluate` reports it (`summary.json` `isbi`): pixel pairs counted within each image;
    `ignores`: optional per-image ignore masks (None entries: every pixel scored)."""
    ignores = list(ignores) if ignores is not None else [None] * len(pred_masks)
    triples = list(zip(pred_masks, true_interiors, ignores))
    if metric in LOWER_OF:
        return min(pooled_isbi_score(pred_masks, true_interiors, name, ignores)
                   for name in LOWER_OF[metric])
    if metric == "v_rand_cc":
        return adapted_rand([components_table(m, t, i) for m, t, i in triples])
    v_rand, v_info = scores_from_tables([isbi_table(m, t, i) for m, t, i in triples])
    return {"v_rand": v_rand, "v_info": v_info}[metric]


def adapted_rand(tables):
    """1 - adapted Rand error of one or several contingency tables (pairs without replacement,
    counted within each image); 1.0 when no pair is scored."""
    same_both = same_true = same_pred = 0.0
    for table in (np.asarray(t, float) for t in tables):
        n = table.sum()
        same_both += (table**2).sum() - n
        same_true += (table.sum(1) ** 2).sum() - n
        same_pred += (table.sum(0) ** 2).sum() - n
    if same_true + same_pred == 0:
        return 1.0
    return float(2 * same_both / (same_true + same_pred))


def components_table(pred_mask, true_interior, ignore=None):
    """The contingency table of the harsher reading (`v_rand_cc`, module docstring): 4-connected
    components of the true and predicted interiors, no thinning, true membrane and `ignore`d
    pixels not scored, predicted membrane one segment."""
    pred_mask, true_interior = _planes(pred_mask, true_interior)
    true_labels = _unscored(measure.label(np.asarray(true_interior) > 0, connectivity=1), ignore)
    pred_labels = measure.label(np.asarray(pred_mask) > 0, connectivity=1)
    return joint_table(true_labels, pred_labels)
