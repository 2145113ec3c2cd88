"""MMEngine metric for video person Re-ID (camera-aware MARS protocol)."""
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmengine.structures import BaseDataElement

from mmdcct.registry import METRICS
from ..functional import DISTANCE_METRICS, evaluate_rank_from_features

__all__ = ['VideoReIDMetric']


def _to_int(value: Any, key: str) -> int:
    """Convert a scalar id / camera (int, numpy scalar, 1-element tensor)
    to a Python int."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        if int(np.prod(value.shape)) != 1:
            raise ValueError(f'`{key}` must be a scalar, got shape '
                             f'{tuple(value.shape)}.')
        value = value.reshape(-1)[0].item()
    return int(value)


@METRICS.register_module()
class VideoReIDMetric(BaseMetric):
    """CMC, mAP and mINP of video Re-ID under the camera-aware protocol.

    Every sample is a tracklet flagged ``is_query`` and/or ``is_gallery`` (a
    tracklet may be both: MARS appends the query tracklets to the gallery).
    For every query, the gallery tracklets with the same id **and** camera
    are ignored; queries left without a true match are skipped, and the
    number is logged. See :func:`mmdcct.evaluation.functional.evaluate_rank`.

    The metric keys are ``mAP``, ``mINP`` and ``R{k}`` (in percent) with
    **no prefix by default** (``default_prefix = ''``), so that checkpoint
    hooks can use ``save_best='mAP'``; pass ``prefix='mars'`` to get
    ``mars/mAP`` etc. (e.g. when evaluating several datasets).

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

    Examples:
        >>> val_evaluator = dict(type='VideoReIDMetric', distance='cosine')
    """

    default_prefix: Optional[str] = ''

    def __init__(self,
                 distance: str = 'cosine',
                 topk: Union[int, Sequence[int]] = (1, 5, 10, 20),
                 chunk_size: Optional[int] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
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

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Store the feature, id, camera and split flags of every sample.

        Args:
            data_batch (Any): The data batch (unused).
            data_samples (Sequence[dict]): The model outputs, one
                ``VideoReIDDataSample.to_dict()`` per tracklet, each with
                ``pred_feature`` (tensor, shape ``(C,)``), ``pid`` (int),
                ``camid`` (int), ``is_query`` (bool) and ``is_gallery``
                (bool).
        """
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            missing = [
                key for key in ('pred_feature', 'pid', 'camid', 'is_query',
                                'is_gallery') if key not in sample
            ]
            if missing:
                raise KeyError(f'VideoReIDMetric needs {missing} in every '
                               'data sample (set by the model in predict '
                               'mode and by PackVideoReIDInputs).')
            feature = torch.as_tensor(sample['pred_feature']).detach()
            self.results.append(
                dict(
                    feature=feature.reshape(-1).cpu(),
                    pid=_to_int(sample['pid'], 'pid'),
                    camid=_to_int(sample['camid'], 'camid'),
                    is_query=bool(sample['is_query']),
                    is_gallery=bool(sample['is_gallery'])))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Rank the gallery for every query and compute CMC / mAP / mINP.

        Args:
            results (list[dict]): The results of all samples, in dataset
                order, as stored by :meth:`process`.

        Returns:
            dict[str, float]: ``mAP``, ``mINP`` and ``R{k}`` in percent.
        """
        logger = MMLogger.get_current_instance()
        query = [r for r in results if r['is_query']]
        gallery = [r for r in results if r['is_gallery']]
        if not query or not gallery:
            raise ValueError(
                f'VideoReIDMetric got {len(query)} query and {len(gallery)} '
                f'gallery samples out of {len(results)}: both must be '
                'non-empty (check the is_query / is_gallery flags).')

        def _stack(items: List[dict]):
            feats = torch.stack([r['feature'] for r in items])
            pids = np.array([r['pid'] for r in items], dtype=np.int64)
            camids = np.array([r['camid'] for r in items], dtype=np.int64)
            return feats, pids, camids

        q_feats, q_pids, q_camids = _stack(query)
        g_feats, g_pids, g_camids = _stack(gallery)
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
            f'{self.distance} distance; {num_valid} queries evaluated, '
            f'{num_skipped} skipped (no true match in another camera).')
        return res
