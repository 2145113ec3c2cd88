"""Embed tracklets with a trained video Re-ID model (MMEngine inferencer).

:class:`VideoReIDInferencer` is an :class:`mmengine.infer.BaseInferencer`:
it builds the model from a config (and checkpoint), reuses the config's
*test* pipeline, batches the tracklets with MMEngine's collate function and
the model's ``test_step``, and returns one L2-normalised feature per
tracklet. A tracklet is given as

- a folder of frames (every image file in it, in frame-number order, see
  :func:`list_tracklet_frames`);
- a list of frame paths (in the given order);
- a ``(T, H, W, 3)`` RGB ``uint8`` numpy array (the config's
  ``LoadTrackletFrames`` step is replaced by :class:`LoadTrackletFromArray`;
  the sampling step runs unchanged on the array's frames).

Example::

    >>> from mmdcct.apis import VideoReIDInferencer
    >>> inferencer = VideoReIDInferencer('configs/dcct/dcct_demo.py',
    ...                                  'work_dirs/dcct_demo/epoch_30.pth')
    >>> feats = inferencer(['tracklets/a', 'tracklets/b'])  # (2, C)
"""
import copy
import os
import os.path as osp
import re
import sys
from functools import partial
from typing import Any, Callable, Iterator, List, Optional, Sequence
from typing import Union

import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import Compose
from mmengine.config import Config, ConfigDict
from mmengine.dataset import pseudo_collate
from mmengine.device import get_device
from mmengine.infer import BaseInferencer
from mmengine.registry import FUNCTIONS, DefaultScope
from mmengine.utils import ProgressBar

from mmdcct.datasets.transforms import LoadTrackletFromArray
from mmdcct.registry import TRANSFORMS
from .inference import init_model
from .tracklet_folders import split_tracklet_frames

__all__ = [
    'VideoReIDInferencer', 'LoadTrackletFromArray', 'list_tracklet_frames',
    'find_tracklet_dirs', 'IMG_EXTENSIONS'
]

#: File extensions read as frames of a tracklet folder.
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')

TrackletType = Union[str, os.PathLike, Sequence[str], np.ndarray]

_LAST_NUMBER = re.compile(r'(\d+)(?!.*\d)')


def _frame_key(path: str):
    """Sort key: the last number of the file name, then the name."""
    stem = osp.splitext(osp.basename(path))[0]
    match = _LAST_NUMBER.search(stem)
    return (0, int(match.group(1)), stem) if match else (1, 0, stem)


def list_tracklet_frames(folder: Union[str, os.PathLike]) -> List[str]:
    """List the frames of a tracklet folder in temporal order.

    Every file of ``folder`` (not recursive) with an extension of
    :data:`IMG_EXTENSIONS` is a frame. Frames are sorted by the last number
    in their name (``F10`` after ``F9``); names without a number come last,
    alphabetically.

    Args:
        folder (str | os.PathLike): The tracklet folder.

    Returns:
        list[str]: The frame paths.

    Raises:
        FileNotFoundError: If ``folder`` is not a directory or holds no
            image.
    """
    folder = os.fspath(folder)
    if not osp.isdir(folder):
        raise FileNotFoundError(f'Tracklet folder {folder!r} does not exist.')
    frames = [
        osp.join(folder, name) for name in os.listdir(folder)
        if name.lower().endswith(IMG_EXTENSIONS)
        and osp.isfile(osp.join(folder, name))
    ]
    if not frames:
        raise FileNotFoundError(
            f'Tracklet folder {folder!r} holds no image file '
            f'({", ".join(IMG_EXTENSIONS)}).')
    return sorted(frames, key=_frame_key)


def _single_tracklet_frames(folder: Union[str, os.PathLike]) -> List[str]:
    """The frames of a folder that is one tracklet; a folder whose frame
    names show several tracklets (a MARS identity folder) is refused rather
    than embedded as one."""
    folder = os.fspath(folder)
    parts = split_tracklet_frames(list_tracklet_frames(folder), folder)
    if len(parts) > 1:
        raise ValueError(
            f'Folder {folder!r} holds {len(parts)} tracklets by its MARS '
            f'frame names ({", ".join(p["label"] for p in parts[:5])}'
            f'{" ..." if len(parts) > 5 else ""}); embedding it as one '
            'tracklet would merge them. Use mmdcct.apis.find_tracklets('
            'folder) (one frame list per tracklet), GalleryIndex or '
            'tools/infer.py, which split such folders.')
    return parts[0]['frames']


def find_tracklet_dirs(paths: Union[str, Sequence[str]]) -> List[str]:
    """Expand folders into tracklet folders.

    A folder that holds image files is a tracklet; a folder without images
    is a collection whose sub-folders (sorted by name, not recursive) are
    the tracklets.

    Args:
        paths (str | Sequence[str]): Tracklet folders or collections.

    Returns:
        list[str]: The tracklet folders, in order.

    Raises:
        FileNotFoundError: If a path is not a folder, or a collection holds
            no tracklet.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    out: List[str] = []
    for path in paths:
        path = os.fspath(path)
        if not osp.isdir(path):
            raise FileNotFoundError(f'{path!r} is not a folder.')
        names = sorted(os.listdir(path))
        if any(n.lower().endswith(IMG_EXTENSIONS) for n in names):
            out.append(path)
            continue
        subs = [
            osp.join(path, n) for n in names if osp.isdir(osp.join(path, n))
        ]
        subs = [
            s for s in subs
            if any(n.lower().endswith(IMG_EXTENSIONS) for n in os.listdir(s))
        ]
        if not subs:
            raise FileNotFoundError(
                f'{path!r} holds neither frames nor tracklet sub-folders.')
        out.extend(subs)
    return out


def _type_name(transform: Any) -> str:
    """The registered name of a transform config, scope prefix dropped."""
    if isinstance(transform, dict):
        name = transform.get('type', '')
        name = name if isinstance(name, str) else name.__name__
    else:
        name = type(transform).__name__
    return name.split('.')[-1]


def _test_pipeline_cfg(cfg: Config) -> List[dict]:
    """The test pipeline of a config (test, then val dataloader)."""
    for key in ('test_dataloader', 'val_dataloader'):
        dataset = cfg.get(key, {}).get('dataset') if cfg.get(key) else None
        while dataset is not None:
            if dataset.get('pipeline') is not None:
                return copy.deepcopy(list(dataset['pipeline']))
            dataset = dataset.get('dataset')
    if cfg.get('test_pipeline') is not None:
        return copy.deepcopy(list(cfg.test_pipeline))
    raise ValueError('The config has no test pipeline (test_dataloader.'
                     'dataset.pipeline, val_dataloader.dataset.pipeline or '
                     'test_pipeline).')


class VideoReIDInferencer(BaseInferencer):
    """Embed tracklets: one L2-normalised feature per tracklet.

    Args:
        model (str | Config | dict): Config file path, config object, or a
            model name / alias of ``model-index.yml`` (e.g.
            ``'dcct_r50-vit-b_2xb8-50e_mars'``; see :meth:`list_models`).
        weights (str, optional): Checkpoint path. Without it the model keeps
            its initial weights (a warning is issued). Defaults to None.
        device (str, optional): ``'cpu'``, ``'cuda:0'`` ... Defaults to None
            (MMEngine's :func:`~mmengine.device.get_device`).
        feature (str, optional): Override of ``model.test_cfg.feature``:
            ``'base'``, ``'spatial'``, ``'final'``, ``'all'`` or stages
            joined by ``'+'`` (``'base+final'``). Defaults to None (the
            config's).
        scope (str): The default scope. Defaults to ``'mmdcct'``.

    Attributes:
        pipeline (Compose): The config's test pipeline (frame files).
        array_pipeline (Compose): The same with ``LoadTrackletFrames``
            replaced by :class:`LoadTrackletFromArray`.
    """

    preprocess_kwargs: set = set()
    forward_kwargs: set = set()
    visualize_kwargs: set = set()
    postprocess_kwargs: set = set()

    def __init__(self,
                 model: Union[str, Config, dict],
                 weights: Optional[str] = None,
                 device: Optional[str] = None,
                 feature: Optional[str] = None,
                 scope: str = 'mmdcct') -> None:
        if isinstance(model, (str, os.PathLike)) and not osp.isfile(model):
            model = self.resolve_config(os.fspath(model))
        # build the model and the transforms from our registries whatever
        # the caller's default scope is
        with DefaultScope.overwrite_default_scope(scope):
            super().__init__(
                model=os.fspath(model)
                if isinstance(model, os.PathLike) else model,
                weights=weights,
                device=device,
                scope=scope,
                show_progress=True)
        if feature is not None:
            self.feature = feature

    # ------------------------------------------------------------------
    # model names (model-index.yml)
    # ------------------------------------------------------------------
    @staticmethod
    def _model_index() -> List[dict]:
        """The ``Models`` of the repository's ``model-index.yml``."""
        from mmengine.fileio import load
        repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
        index = osp.join(repo, 'model-index.yml')
        if not osp.isfile(index):
            return []
        models = []
        for meta in load(index).get('Import', []):
            for model in load(osp.join(repo, meta)).get('Models', []):
                model = dict(model)
                model['Config'] = osp.join(repo, model['Config'])
                models.append(model)
        return models

    @staticmethod
    def list_models(scope: Optional[str] = None,
                    patterns: str = r'.*') -> List[str]:
        """Model names and aliases of ``model-index.yml`` matching
        ``patterns`` (``scope`` is ignored: always mmdcct's)."""
        names = []
        for model in VideoReIDInferencer._model_index():
            aliases = model.get('Alias') or []
            aliases = [aliases] if isinstance(aliases, str) else aliases
            names.extend(n for n in [model['Name']] + list(aliases)
                         if re.match(patterns, n))
        return names

    @staticmethod
    def resolve_config(model: str) -> str:
        """The config file of a model name or alias of ``model-index.yml``
        (e.g. ``'dcct_mars'``).

        Raises:
            FileNotFoundError: If ``model`` is neither a file nor a name.
        """
        for entry in VideoReIDInferencer._model_index():
            aliases = entry.get('Alias') or []
            aliases = [aliases] if isinstance(aliases, str) else aliases
            if model.lower() in [
                    n.lower() for n in [entry['Name']] + list(aliases)
            ]:
                return entry['Config']
        raise FileNotFoundError(
            f'{model!r} is neither a config file nor a model name of '
            'model-index.yml (VideoReIDInferencer.list_models()).')

    # ------------------------------------------------------------------
    # BaseInferencer hooks
    # ------------------------------------------------------------------
    def _init_model(self, cfg: Union[Config, ConfigDict],
                    weights: Optional[str], device: str) -> torch.nn.Module:
        """Build the model with :func:`mmdcct.apis.init_model` (pretrained
        ``init_cfg`` dropped when ``weights`` is given; weights-only
        checkpoint loading)."""
        if not isinstance(cfg, Config):
            cfg = Config(cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg)
        if weights is None:
            import warnings
            warnings.warn('No checkpoint given: the features come from a '
                          'randomly initialised model.')
        return init_model(cfg, weights, device=device or get_device())

    def _init_pipeline(self, cfg: Union[Config, ConfigDict]) -> Callable:
        """Build the test pipeline (files) and its array variant."""
        steps = _test_pipeline_cfg(cfg)
        self.pipeline_cfg = copy.deepcopy(steps)
        if not any(_type_name(t) == 'LoadTrackletFrames' for t in steps):
            raise ValueError('The test pipeline has no LoadTrackletFrames '
                             f'step: {[_type_name(t) for t in steps]}')
        array_steps = [
            LoadTrackletFromArray() if _type_name(t) == 'LoadTrackletFrames'
            else TRANSFORMS.build(t) if isinstance(t, dict) else t
            for t in steps
        ]
        self.array_pipeline = Compose(array_steps)
        return Compose(
            [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in steps])

    def _init_collate(self, cfg: Union[Config, ConfigDict]) -> Callable:
        """The test dataloader's ``collate_fn`` (MMEngine's ``FUNCTIONS``),
        :func:`~mmengine.dataset.pseudo_collate` when it names none."""
        collate_cfg = (cfg.get('test_dataloader') or {}).get('collate_fn')
        if collate_cfg is None:
            return pseudo_collate
        if isinstance(collate_cfg, dict):
            collate_cfg = dict(collate_cfg)
            fn = FUNCTIONS.get(collate_cfg.pop('type'))
            return partial(fn, **collate_cfg) if collate_cfg else fn
        return collate_cfg

    def _init_visualizer(self, cfg) -> None:
        """No visualiser: see :class:`mmdcct.visualization.
        VideoReIDVisualizer` for rank lists and attention maps."""
        return None

    # ------------------------------------------------------------------
    # properties
    # ------------------------------------------------------------------
    @property
    def feature(self) -> str:
        """str: The feature mode of the model (``test_cfg.feature``)."""
        return self.model.test_cfg['feature']

    @feature.setter
    def feature(self, value: str) -> None:
        old = self.model.test_cfg['feature']
        self.model.test_cfg['feature'] = value
        try:  # a mode the model cannot produce fails here, not at predict
            self.model.resolve_test_stages()
        except ValueError:
            self.model.test_cfg['feature'] = old
            raise

    # ------------------------------------------------------------------
    # inputs
    # ------------------------------------------------------------------
    def _inputs_to_list(self, inputs: Any) -> list:
        """Split ``inputs`` into a list of tracklets.

        - a folder path or a ``(T, H, W, 3)`` array: one tracklet;
        - a ``(N, T, H, W, 3)`` array: ``N`` tracklets;
        - a list of image-file paths: **one** tracklet (its frames);
        - any other list: one tracklet per element (folders, lists of frame
          paths, arrays).

        Args:
            inputs: See above.

        Returns:
            list: The tracklets.
        """
        if isinstance(inputs, (str, os.PathLike)):
            return [os.fspath(inputs)]
        if isinstance(inputs, torch.Tensor):
            inputs = inputs.cpu().numpy()
        if isinstance(inputs, np.ndarray):
            if inputs.ndim == 5:
                return list(inputs)
            return [inputs]
        if not isinstance(inputs, (list, tuple)):
            raise TypeError('A tracklet is a folder, a list of frame paths or '
                            f'a (T, H, W, 3) array; got {type(inputs)}.')
        inputs = list(inputs)
        if inputs and all(isinstance(x, (str, os.PathLike)) for x in inputs):
            paths = [os.fspath(x) for x in inputs]
            if all(osp.isfile(p) for p in paths):
                return [paths]
            if not all(osp.isdir(p) for p in paths):
                bad = [p for p in paths if not osp.isdir(p)]
                raise FileNotFoundError(
                    'A list of paths is either one tracklet (frame files) '
                    'or tracklet folders; these are neither existing '
                    f'folders nor all files: {bad[:5]}')
            return paths
        return inputs

    @staticmethod
    def _to_results(tracklet: TrackletType) -> dict:
        """The pipeline input dict of one tracklet.

        Args:
            tracklet: A folder, a list of frame paths or a ``(T, H, W, 3)``
                RGB ``uint8`` array.

        Returns:
            dict: ``img_paths`` (and ``frames`` for an array).
        """
        if isinstance(tracklet, (str, os.PathLike)):
            return dict(img_paths=_single_tracklet_frames(tracklet))
        if isinstance(tracklet, torch.Tensor):
            tracklet = tracklet.cpu().numpy()
        if isinstance(tracklet, np.ndarray):
            if tracklet.ndim != 4 or tracklet.shape[-1] != 3:
                raise ValueError('An array tracklet must have shape (T, H, W, '
                                 f'3) (RGB), got {tracklet.shape}.')
            if tracklet.dtype != np.uint8:
                raise TypeError('An array tracklet must be uint8 RGB, got '
                                f'{tracklet.dtype}.')
            if len(tracklet) == 0:
                raise ValueError('An array tracklet needs at least 1 frame.')
            return dict(
                img_paths=[f'<array>/{i:06d}' for i in range(len(tracklet))],
                frames=tracklet)
        if isinstance(tracklet, (list, tuple)):
            if not tracklet or not all(
                    isinstance(p, (str, os.PathLike)) for p in tracklet):
                raise ValueError('A list tracklet must be a non-empty list '
                                 'of frame paths.')
            return dict(img_paths=[os.fspath(p) for p in tracklet])
        raise TypeError('A tracklet is a folder, a list of frame paths or a '
                        f'(T, H, W, 3) array; got {type(tracklet)}.')

    def prepare(self, tracklet: TrackletType) -> dict:
        """Run the test pipeline on one tracklet.

        Args:
            tracklet: A folder, a list of frame paths or an array.

        Returns:
            dict: ``inputs`` (``(K·T, 3, H, W)`` uint8 tensor) and
            ``data_samples`` (:class:`VideoReIDDataSample`), i.e. what the
            test dataloader yields for one tracklet.
        """
        results = self._to_results(tracklet)
        pipeline = self.array_pipeline if 'frames' in results \
            else self.pipeline
        return pipeline(results)

    def preprocess(self,
                   inputs: list,
                   batch_size: int = 8,
                   **kwargs) -> Iterator[dict]:
        """Yield collated batches of ``batch_size`` tracklets.

        Args:
            inputs (list): Tracklets, see :meth:`_inputs_to_list`.
            batch_size (int): Tracklets per batch. Defaults to 8.

        Yields:
            dict: A batch for ``model.test_step``.
        """
        chunks = self._get_chunk_data(map(self.prepare, inputs), batch_size)
        yield from map(self.collate_fn, chunks)

    # ------------------------------------------------------------------
    # call
    # ------------------------------------------------------------------
    def __call__(self,
                 inputs: Any,
                 batch_size: int = 8,
                 progress: bool = True,
                 return_datasamples: bool = False,
                 **kwargs) -> Union[np.ndarray, list]:
        """Embed tracklets.

        Args:
            inputs: One tracklet (a folder, a list of frame paths, a
                ``(T, H, W, 3)`` RGB ``uint8`` array) or a list of them, or a
                ``(N, T, H, W, 3)`` array; see :meth:`_inputs_to_list`.
            batch_size (int): Tracklets per forward. Defaults to 8.
            progress (bool): Print a progress bar (one step per tracklet) to
                stdout. Defaults to True.
            return_datasamples (bool): Return the model's
                :class:`VideoReIDDataSample` list (``pred_feature`` not
                normalised) instead of the array. Defaults to False.

        Returns:
            np.ndarray | list: Features ``(N, C)`` float32, each row of unit
            L2 norm, in input order; or the data samples.
        """
        self._dispatch_kwargs(**kwargs)  # rejects unknown arguments
        return self._run(
            self._inputs_to_list(inputs), batch_size, progress,
            return_datasamples)

    def extract(self,
                tracklets: Sequence[TrackletType],
                batch_size: int = 8,
                progress: bool = True) -> np.ndarray:
        """Embed a sequence in which every element is one tracklet.

        Unlike :meth:`__call__`, a list of frame paths is never read as one
        tracklet: every element is a tracklet (a folder, a list of frame
        paths or an array).

        Args:
            tracklets (Sequence): The tracklets.
            batch_size (int): Tracklets per forward. Defaults to 8.
            progress (bool): Print a progress bar. Defaults to True.

        Returns:
            np.ndarray: ``(N, C)`` float32 unit-norm features.
        """
        return self._run(list(tracklets), batch_size, progress, False)

    def _run(self, tracklets: list, batch_size: int, progress: bool,
             return_datasamples: bool) -> Union[np.ndarray, list]:
        """Embed a list of tracklets (one per element)."""
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        if not tracklets:
            raise ValueError('No tracklet to embed.')
        bar = ProgressBar(len(tracklets), file=sys.stdout) \
            if progress else None
        preds: list = []
        for batch in self.preprocess(tracklets, batch_size=batch_size):
            out = self.forward(batch)
            preds.extend(out)
            if bar is not None:
                bar.update(len(out))
        if bar is not None:
            bar.file.write('\n')
            bar.file.flush()
        return self.postprocess(preds, None, return_datasamples)

    def visualize(self, inputs: list, preds: Any, **kwargs) -> None:
        """Nothing to draw for a feature extractor (see the module doc)."""
        return None

    def postprocess(self,
                    preds: list,
                    visualization: Optional[list] = None,
                    return_datasamples: bool = False,
                    **kwargs) -> Union[np.ndarray, list]:
        """Stack and L2-normalise the features.

        Args:
            preds (list): Data samples with ``pred_feature``.
            visualization: Unused.
            return_datasamples (bool): Return ``preds`` unchanged.

        Returns:
            np.ndarray | list: ``(N, C)`` float32 features, or ``preds``.
        """
        if return_datasamples:
            return preds
        feats = torch.stack([p.pred_feature.detach().float() for p in preds])
        return F.normalize(feats, p=2, dim=1).cpu().numpy()
