"""MMEngine metric for video person Re-ID (camera-aware MARS protocol)."""
import logging
from collections import Counter
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log
from mmengine.structures import BaseDataElement

from mmdcct.registry import METRICS
from ..functional import (DISTANCE_METRICS, average_query_expansion,
                          distance_chunks, evaluate_rank,
                          evaluate_rank_from_features,
                          re_ranking_from_features)

__all__ = ['VideoReIDMetric']

# How to put a field into the metainfo of a data sample, for the errors.
_HOW_TO_SET = (
    'Set it per sample in the metainfo, e.g. data_sample.set_metainfo('
    'dict(camid=2, is_query=True, is_gallery=False)), or keep it from the '
    'dataset by adding it to the meta_keys of the packing transform '
    "(mmdcct: PackVideoReIDInputs, mmpretrain: PackInputs(meta_keys=(..., "
    "'camid', 'is_query', 'is_gallery'))).")
# Gallery entries compared with every query before the exact tie check.
_TIE_PROBE_SIZE = 64
# Distances closer than this (relative to the largest) count as tied:
# float32 products of identical features differ by a few ulps.
_TIE_RTOL = 1e-6
# Rows named in an error message.
_MAX_LISTED = 10
# Keys of the test-time options (see the class doc).
_RE_RANKING_KEYS = ('k1', 'k2', 'lambda_value')
_QUERY_EXPANSION_KEYS = ('k', 'alpha', 'times')


def _option(value: Optional[dict], name: str,
            keys: Sequence[str]) -> Optional[dict]:
    """Check a test-time option (None, or a dict of some of ``keys``)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise TypeError(f'VideoReIDMetric: `{name}` must be None (off) or a '
                        f'dict with some of the keys {keys}, e.g. '
                        f'{name}=dict(), got {value!r}.')
    unknown = sorted(set(value) - set(keys))
    if unknown:
        raise KeyError(f'VideoReIDMetric: unknown key(s) {unknown} in '
                       f'`{name}`; the accepted keys are {keys}.')
    return dict(value)


def _to_int(value: Any, key: str) -> int:
    """Convert a scalar id / camera (int, numpy scalar, 1-element tensor)
    to a Python int."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        if int(np.prod(value.shape)) != 1:
            raise ValueError(f'VideoReIDMetric: `{key}` must be a scalar '
                             f'(or hold one element), got shape '
                             f'{tuple(value.shape)}.')
        value = value.reshape(-1)[0].item()
    return int(value)


def _listed(items: Sequence[Any]) -> str:
    """The first items, comma separated, with the number of the rest."""
    items = list(items)
    text = ', '.join(str(i) for i in items[:_MAX_LISTED])
    if len(items) > _MAX_LISTED:
        text += f' and {len(items) - _MAX_LISTED} more'
    return text


@METRICS.register_module()
class VideoReIDMetric(BaseMetric):
    """CMC, mAP and mINP of video Re-ID under the camera-aware protocol.

    Every sample is a tracklet flagged ``is_query`` and/or ``is_gallery`` (a
    tracklet may be both: MARS appends the query tracklets to the gallery).
    For every query, the gallery tracklets with the same id **and** camera
    are ignored; queries left without a true match are skipped, and the
    number is logged. See :func:`mmdcct.evaluation.functional.evaluate_rank`.

    Fields read from every data sample (a dict or any
    :class:`~mmengine.structures.BaseDataElement`, e.g. mmdcct's
    ``VideoReIDDataSample`` or mmpretrain's ``DataSample``; data fields and
    metainfo alike):

    - ``pred_feature``: the tracklet's feature, shape ``(C,)``, the same
      ``C`` for all samples;
    - ``pid``: the identity (int); when absent, ``gt_label`` is used
      (mmpretrain's ``DataSample.set_gt_label(pid)``, a tensor of shape
      ``(1,)``). Use the identity, not a training label remapped per split;
    - ``camid``: the camera (int, any numbering). There is no default: the
      protocol needs it to drop the same-camera matches;
    - ``is_query`` / ``is_gallery`` (bool): the sets the sample belongs to.
      A sample may be in both (the query is then never matched with
      itself, since it shares its id and camera) or in neither (ignored).

    A missing field raises a ``KeyError`` that names it and how to set it.
    Features of different widths and non-finite (NaN / inf) features raise
    a ``ValueError`` naming the samples (``sample_idx`` when present, else
    the position in the dataset). Queries whose distances to the whole
    gallery are all equal (collapsed features, e.g. an untrained model or
    all-zero outputs) are counted and logged as a warning, since their
    rank follows the gallery order.

    The metric keys are ``mAP``, ``mINP`` and ``R{k}`` (in percent) with
    **no prefix by default** (``default_prefix = ''``), so that checkpoint
    hooks can use ``save_best='mAP'``; pass ``prefix='mars'`` to get
    ``mars/mAP`` etc. (e.g. when evaluating several datasets).

    Two test-time options, both off by default, change the ranking (not
    the model): ``query_expansion`` replaces the query and gallery features
    by their average query expansion
    (:func:`~mmdcct.evaluation.functional.average_query_expansion`,
    fast-reid's ``TEST.AQE``), and ``re_ranking`` ranks by the k-reciprocal
    re-ranked distance (Zhong et al., CVPR 2017;
    :func:`~mmdcct.evaluation.functional.re_ranking_from_features`), fed
    with this metric's ``distance`` between the (expanded) features for the
    query-gallery, query-query and gallery-gallery pairs. The authors feed
    the Euclidean distance; ``distance='cosine'`` feeds ``1 - cos`` (as
    torchreid does with its cosine metric). With both, the expansion comes
    first (as in fast-reid). Re-ranking holds the ``(Q, G)`` distance
    matrix and costs seconds to minutes at MARS scale (see docs).

    One result is stored per sample and the query / gallery sets are formed
    only in :meth:`compute_metrics`, from the results that
    :func:`mmengine.dist.collect_results` returns in dataset order (with the
    sampler's padding dropped by ``size``). Hence a distributed evaluation
    gives exactly the same numbers as a single process.

    Args:
        distance (str): ``'cosine'`` or ``'euclidean'``. Defaults to
            ``'cosine'``.
        topk (int | Sequence[int]): CMC ranks to report. Defaults to
            ``(1, 5, 10, 20)``.
        chunk_size (int, optional): Queries whose distances are computed and
            ranked at once (memory ``O(chunk_size x num_gallery)``).
            Defaults to None (automatic, about 8M distances).
        collect_device (str): Device used to collect results across ranks,
            ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the metric keys. Defaults to None
            (no prefix).
        collect_dir (str, optional): Directory used to collect results when
            ``collect_device='cpu'``. Defaults to None (a temporary one).
        re_ranking (dict, optional): k-reciprocal re-ranking with the
            keys ``k1``, ``k2``, ``lambda_value`` (defaults 20, 6, 0.3);
            ``dict()`` uses the defaults. Defaults to None (off).
        query_expansion (dict, optional): Average query expansion with the
            keys ``k``, ``alpha``, ``times`` (defaults 5, 3.0, 1). Defaults
            to None (off).

    Examples:
        >>> val_evaluator = dict(type='VideoReIDMetric', distance='cosine')
        >>> # fast-reid's TEST.RERANK + TEST.AQE
        >>> test_evaluator = dict(
        ...     type='VideoReIDMetric',
        ...     re_ranking=dict(k1=20, k2=6, lambda_value=0.3),
        ...     query_expansion=dict(k=5, alpha=3.0, times=1))
    """

    default_prefix: Optional[str] = ''

    def __init__(self,
                 distance: str = 'cosine',
                 topk: Union[int, Sequence[int]] = (1, 5, 10, 20),
                 chunk_size: Optional[int] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None,
                 re_ranking: Optional[dict] = None,
                 query_expansion: Optional[dict] = None) -> None:
        super().__init__(
            collect_device=collect_device,
            prefix=prefix,
            collect_dir=collect_dir)
        if distance not in DISTANCE_METRICS:
            raise ValueError(f'`distance` must be one of {DISTANCE_METRICS}, '
                             f'got {distance!r}.')
        if isinstance(topk, int):
            topk = (topk, )
        if not topk or any(int(k) != k or k < 1 for k in topk):
            raise ValueError(f'`topk` must hold positive integers, got '
                             f'{topk}.')
        self.distance = distance
        self.topk = tuple(int(k) for k in topk)
        self.chunk_size = chunk_size
        self.re_ranking = _option(re_ranking, 're_ranking', _RE_RANKING_KEYS)
        self.query_expansion = _option(query_expansion, 'query_expansion',
                                       _QUERY_EXPANSION_KEYS)

    @staticmethod
    def _read_sample(sample: Union[dict, BaseDataElement]) -> dict:
        """The stored result of one data sample (see the class doc)."""
        if isinstance(sample, BaseDataElement):
            sample = sample.to_dict()
        where = (f' (sample_idx {sample["sample_idx"]})'
                 if sample.get('sample_idx') is not None else '')
        if 'pred_feature' not in sample:
            raise KeyError(
                f'VideoReIDMetric needs `pred_feature` (the tracklet '
                f'feature, shape (C,)) in every data sample{where}: set it '
                "in the model's predict mode, e.g. data_sample.set_field("
                "feat, 'pred_feature').")
        if sample.get('pid') is not None:
            pid = _to_int(sample['pid'], 'pid')
        elif sample.get('gt_label') is not None:
            pid = _to_int(sample['gt_label'], 'gt_label')
        else:
            raise KeyError(
                'VideoReIDMetric needs the identity of every data sample'
                f'{where}: `pid` in the metainfo, or `gt_label` (e.g. '
                "mmpretrain's DataSample.set_gt_label(pid)). " + _HOW_TO_SET)
        missing = [
            key for key in ('camid', 'is_query', 'is_gallery')
            if sample.get(key) is None
        ]
        if missing:
            raise KeyError(
                f'VideoReIDMetric needs {missing} in every data sample'
                f'{where}: `camid` is the camera (the protocol drops the '
                'same-id same-camera gallery entries), `is_query` / '
                '`is_gallery` mark the query and gallery sets. ' +
                _HOW_TO_SET)
        feature = torch.as_tensor(sample['pred_feature']).detach()
        sample_idx = sample.get('sample_idx')
        return dict(
            feature=feature.reshape(-1).cpu(),
            pid=pid,
            camid=_to_int(sample['camid'], 'camid'),
            is_query=bool(sample['is_query']),
            is_gallery=bool(sample['is_gallery']),
            sample_idx=None
            if sample_idx is None else _to_int(sample_idx, 'sample_idx'))

    def process(self, data_batch: Any,
                data_samples: Sequence[Union[dict, BaseDataElement]]) -> None:
        """Store the feature, id, camera and split flags of every sample.

        Args:
            data_batch (Any): The data batch (unused).
            data_samples (Sequence[dict | BaseDataElement]): The model
                outputs, one per tracklet, with the fields listed in the
                class doc.
        """
        for sample in data_samples:
            self.results.append(self._read_sample(sample))

    @staticmethod
    def _names(results: List[dict], rows: Sequence[int]) -> str:
        """``sample_idx`` (or dataset position) and pid of some rows."""
        names = []
        for row in rows:
            idx = results[row].get('sample_idx')
            names.append(f'{row if idx is None else idx} '
                         f'(pid {results[row]["pid"]})')
        return _listed(names)

    def _check_features(self, results: List[dict]) -> None:
        """Raise on mixed feature widths and on non-finite features."""
        widths = Counter(int(r['feature'].numel()) for r in results)
        if len(widths) > 1:
            main = widths.most_common(1)[0][0]
            parts = []
            for width, count in widths.most_common():
                part = f'width {width}: {count} samples'
                if width != main:
                    rows = [
                        i for i, r in enumerate(results)
                        if r['feature'].numel() == width
                    ]
                    part += f' ({self._names(results, rows)})'
                parts.append(part)
            raise ValueError(
                'VideoReIDMetric: the `pred_feature`s have different '
                f'widths ({"; ".join(parts)}). Every sample must be embedded '
                'by the same model with the same feature mode '
                '(model.test_cfg.feature); samples are named by sample_idx '
                '(or dataset position) and pid.')
        bad = [
            i for i, r in enumerate(results)
            if not bool(torch.isfinite(r['feature']).all())
        ]
        if bad:
            raise ValueError(
                f'VideoReIDMetric: {len(bad)} of {len(results)} samples have '
                'NaN or inf in `pred_feature`: '
                f'{self._names(results, bad)} (sample_idx, or dataset '
                'position, and pid). The model produced invalid outputs: '
                'check the checkpoint (a diverged training shows NaN losses '
                'in its log) and the input frames of these tracklets.')

    def _count_tied_queries(self, q_feats: torch.Tensor,
                            g_feats: torch.Tensor) -> int:
        """Queries whose distances to every gallery entry are equal.

        A query tied on a probe of the gallery is a candidate; only the
        candidates (none with healthy features) are checked against the
        whole gallery.
        """
        num_gallery = len(g_feats)
        if num_gallery < 2:
            return 0
        probe = np.unique(
            np.linspace(0, num_gallery - 1,
                        min(_TIE_PROBE_SIZE, num_gallery)).round().astype(int))

        def tied(dist: torch.Tensor) -> torch.Tensor:
            lo, hi = dist.amin(dim=1), dist.amax(dim=1)
            tol = _TIE_RTOL * hi.abs().clamp(min=1.0)
            return (hi - lo) <= tol

        candidates = []
        for start, dist in distance_chunks(q_feats, g_feats[probe],
                                           self.distance, 4096):
            candidates.extend((start + torch.nonzero(tied(dist)).reshape(
                -1)).tolist())
        if not candidates:
            return 0
        count = 0
        for _, dist in distance_chunks(q_feats[candidates], g_feats,
                                       self.distance,
                                       max(1, (1 << 23) // num_gallery)):
            count += int(tied(dist).sum())
        return count

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Rank the gallery for every query and compute CMC / mAP / mINP.

        Args:
            results (list[dict]): The results of all samples, in dataset
                order, as stored by :meth:`process`.

        Returns:
            dict[str, float]: ``mAP``, ``mINP`` and ``R{k}`` in percent.

        Raises:
            ValueError: If the query or gallery set is empty, the feature
                widths differ, or a feature is not finite.
        """
        logger = MMLogger.get_current_instance()
        query = [r for r in results if r['is_query']]
        gallery = [r for r in results if r['is_gallery']]
        if not query or not gallery:
            raise ValueError(
                f'VideoReIDMetric got {len(query)} query and {len(gallery)} '
                f'gallery samples out of {len(results)}: both must be '
                'non-empty (check the is_query / is_gallery flags).')
        self._check_features(results)

        def _stack(items: List[dict]):
            feats = torch.stack([r['feature'] for r in items])
            pids = np.array([r['pid'] for r in items], dtype=np.int64)
            camids = np.array([r['camid'] for r in items], dtype=np.int64)
            return feats, pids, camids

        q_feats, q_pids, q_camids = _stack(query)
        g_feats, g_pids, g_camids = _stack(gallery)
        num_tied = self._count_tied_queries(q_feats, g_feats)
        if num_tied:
            print_log(
                f'VideoReIDMetric: {num_tied} of {len(query)} queries have '
                f'the same {self.distance} distance to all {len(gallery)} '
                'gallery tracklets (collapsed features, e.g. identical or '
                'all-zero `pred_feature`s): they are ranked by gallery '
                'order, so the scores below do not measure the model. Check '
                'that the checkpoint loaded (no "missing keys") and the '
                'model is trained.',
                logger='current',
                level=logging.WARNING)
        options = ''
        if self.query_expansion is not None:
            q_feats, g_feats = average_query_expansion(
                q_feats, g_feats, **self.query_expansion)
            options += f', query expansion {self.query_expansion}'
        if self.re_ranking is not None:
            distmat = re_ranking_from_features(
                q_feats, g_feats, metric=self.distance, **self.re_ranking)
            options += f', re-ranking {self.re_ranking}'
            res = evaluate_rank(
                distmat,
                q_pids,
                g_pids,
                q_camids,
                g_camids,
                topk=self.topk,
                chunk_size=self.chunk_size)
        else:
            res = evaluate_rank_from_features(
                q_feats,
                g_feats,
                q_pids,
                g_pids,
                q_camids,
                g_camids,
                metric=self.distance,
                topk=self.topk,
                chunk_size=self.chunk_size)
        num_skipped = res.pop('num_skipped_queries')
        num_valid = res.pop('num_valid_queries')
        logger.info(
            f'VideoReIDMetric: {len(query)} queries, {len(gallery)} gallery '
            f'tracklets, feature dim {q_feats.shape[1]}, '
            f'{self.distance} distance{options}; {num_valid} queries '
            'evaluated, '
            f'{num_skipped} skipped (no true match in another camera).')
        return res
