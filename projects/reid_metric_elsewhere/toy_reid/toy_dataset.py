"""Synthetic tracklets of feature vectors with the MARS-style roles."""
from typing import List, Sequence

import numpy as np
import torch
from mmengine.dataset import BaseDataset
from mmpretrain.registry import DATASETS
from mmpretrain.structures import DataSample

__all__ = ['ToyTrackletDataset']


@DATASETS.register_module()
class ToyTrackletDataset(BaseDataset):
    """Tracklets of ``T`` ``D``-dim "frames" for ``num_ids`` identities.

    Every identity has an appearance vector; each of its tracklets (one per
    camera and ``tracklets_per_cam``) is that vector plus a camera offset
    and frame noise. The first tracklet of camera 0 of every identity is a
    query (and, as on MARS, also a gallery entry); every other tracklet is a
    gallery entry; ``num_distractors`` extra gallery tracklets have id 0.

    Each item is ``dict(inputs=Tensor(T, D), data_samples=DataSample)``
    with the metainfo ``pid``, ``camid``, ``is_query``, ``is_gallery`` that
    ``mmdcct.VideoReIDMetric`` reads.

    Args:
        num_ids (int): Identities (ids ``1..num_ids``). Defaults to 10.
        num_cams (int): Cameras. Defaults to 3.
        tracklets_per_cam (int): Tracklets per identity and camera.
            Defaults to 1.
        num_distractors (int): Distractor tracklets. Defaults to 5.
        num_frames (int): ``T``. Defaults to 4.
        dim (int): ``D``. Defaults to 16.
        noise (float): Std of the frame noise. Defaults to 0.5.
        seed (int): Random seed. Defaults to 0.
    """

    def __init__(self,
                 num_ids: int = 10,
                 num_cams: int = 3,
                 tracklets_per_cam: int = 1,
                 num_distractors: int = 5,
                 num_frames: int = 4,
                 dim: int = 16,
                 noise: float = 0.5,
                 seed: int = 0,
                 **kwargs) -> None:
        self.toy_cfg = dict(
            num_ids=num_ids,
            num_cams=num_cams,
            tracklets_per_cam=tracklets_per_cam,
            num_distractors=num_distractors,
            num_frames=num_frames,
            dim=dim,
            noise=noise,
            seed=seed)
        kwargs.setdefault('serialize_data', False)
        kwargs.setdefault('test_mode', True)
        super().__init__(ann_file='', **kwargs)

    def load_data_list(self) -> List[dict]:
        """Generate the tracklets."""
        c = self.toy_cfg
        rng = np.random.default_rng(c['seed'])
        looks = rng.normal(size=(c['num_ids'] + 1, c['dim']))
        cam_offsets = 0.3 * rng.normal(size=(c['num_cams'], c['dim']))
        data = []

        def tracklet(look: np.ndarray, cam: int) -> np.ndarray:
            frames = look + cam_offsets[cam] + c['noise'] * rng.normal(
                size=(c['num_frames'], c['dim']))
            return frames.astype(np.float32)

        for pid in range(1, c['num_ids'] + 1):
            for cam in range(c['num_cams']):
                for k in range(c['tracklets_per_cam']):
                    query = cam == 0 and k == 0
                    data.append(
                        dict(
                            frames=tracklet(looks[pid], cam),
                            pid=pid,
                            camid=cam,
                            is_query=query,
                            is_gallery=True))
        for _ in range(c['num_distractors']):
            data.append(
                dict(
                    frames=tracklet(
                        rng.normal(size=c['dim']),
                        int(rng.integers(c['num_cams']))),
                    pid=0,
                    camid=int(rng.integers(c['num_cams'])),
                    is_query=False,
                    is_gallery=True))
        return data

    def prepare_data(self, idx: int) -> dict:
        """Pack one tracklet (no pipeline needed for vectors)."""
        info = self.get_data_info(idx)
        sample = DataSample(
            metainfo=dict(
                pid=info['pid'],
                camid=info['camid'],
                is_query=info['is_query'],
                is_gallery=info['is_gallery'],
                sample_idx=info['sample_idx']))
        return dict(
            inputs=torch.from_numpy(info['frames']), data_samples=sample)

    @property
    def roles(self) -> Sequence[dict]:
        """``pid`` / ``camid`` / ``is_query`` / ``is_gallery`` of every
        item, in order (for the functional evaluation)."""
        return [{
            k: self.get_data_info(i)[k]
            for k in ('pid', 'camid', 'is_query', 'is_gallery')
        } for i in range(len(self))]
