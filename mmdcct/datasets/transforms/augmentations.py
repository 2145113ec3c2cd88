"""Tracklet-consistent augmentation: one random draw for all frames.

Design. We reuse the OpenMMLab image transforms rather than re-implementing
them. mmcv's ``TransformBroadcaster`` with ``share_random_params=True`` runs
its wrapped transforms once per frame inside ``cache_random_params``: every
method decorated with ``@cache_randomness`` (``mmcv.RandomFlip._choose_
direction``, ``mmpretrain.RandomCrop.rand_crop_params``,
``mmpretrain.RandomErasing.random_disable`` / ``random_patch``) is evaluated
on the first frame and its value reused for the others, so all frames get the
same flip, the same crop offset and the same erasing decision and rectangle;
a new draw is made on the next call. ``mmcv.Resize`` is deterministic.
``tests/test_datasets/test_transforms/test_augmentations.py`` proves it.

:class:`TrackletBroadcaster` is a thin registered wrapper around that
broadcaster which

- fixes the mapping (``img`` <- ``imgs``, auto remap) and
  ``share_random_params=True`` so configs stay short;
- builds the wrapped transforms from the ``mmdcct`` registry, so our own
  transforms resolve unprefixed and OpenMMLab ones with their scope prefix
  (``mmcv.Resize``, ``mmpretrain.RandomCrop``, ...), with or without a
  default scope;
- writes the frame-level meta keys back to the tracklet (the stock
  broadcaster drops them): ``img_shape`` (``(H, W)`` of the output frames),
  ``scale``, ``scale_factor``,
  ``keep_ratio``, ``flip``, ``flip_direction`` (a single value when equal for
  all frames, else the list of per-frame values).

One caveat of the stock transforms: ``mmpretrain.RandomErasing(mode='rand')``
shares the rectangle but draws fresh noise for every frame.
:class:`TrackletRandomErasing` (same arguments) also shares the noise; use it
when the fill must be random *and* identical across frames.

Config-level contract (paper recipe, Sec. IV-B; inputs are RGB
``uint8``, normalisation happens in the data preprocessor)::

    dict(type='TrackletBroadcaster', transforms=[
        dict(type='mmcv.Resize', scale=(128, 256), keep_ratio=False,
             interpolation='bicubic'),                   # scale is (w, h)
        dict(type='mmpretrain.RandomCrop', crop_size=(256, 128),
             padding=10),                                # crop_size (h, w)
        dict(type='mmcv.RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='mmpretrain.RandomErasing', erase_prob=0.5,
             min_area_ratio=0.02, max_area_ratio=0.4,
             aspect_range=(0.3, 3.3), mode='const',
             fill_color=(124, 116, 104)),                # ImageNet mean RGB
    ])

Required keys: ``imgs`` (list of ``H x W x C`` arrays, one per frame).
Modified keys: ``imgs``; plus the meta keys above when the wrapped
transforms produce them.
"""
from collections.abc import Iterable
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np
from mmcv.transforms import BaseTransform, TransformBroadcaster
from mmcv.transforms.utils import cache_randomness
from mmpretrain.datasets.transforms.processing import \
    RandomErasing as _MMPretrainRandomErasing

from mmdcct.registry import TRANSFORMS

__all__ = ['TrackletBroadcaster', 'TrackletRandomErasing']

_NUMBER_TYPES = (bool, int, float)
_SCALAR_TYPES = _NUMBER_TYPES + (str, type(None))


def _plain_scalars(value: Any) -> bool:
    """Whether ``value`` is a Python scalar or a flat tuple of Python
    numbers, without NaN: values for which ``==`` agrees with
    ``np.array_equal``."""
    if type(value) is tuple:
        return all(type(x) in _NUMBER_TYPES and x == x for x in value)
    return type(value) in _SCALAR_TYPES and value == value


def _all_equal(values: Sequence[Any]) -> bool:
    """Whether every element of ``values`` equals the first one."""
    first = values[0]
    if _plain_scalars(first) and all(
            type(v) is type(first) and _plain_scalars(v) for v in values):
        # fast path for the usual meta values (flip, scale_factor, ...)
        return all(v == first for v in values)
    for v in values[1:]:
        try:
            if not np.array_equal(np.asarray(v), np.asarray(first)):
                return False
        except Exception:  # incomparable objects
            return False
    return True


def _drop_instance_method_overrides(transforms: Any) -> None:
    """Undo the instance attributes left behind by ``cache_random_params``.

    On exit, mmcv's ``cache_random_params`` "restores" ``transform`` and the
    ``@cache_randomness`` methods by assigning bound copies as *instance*
    attributes. They behave like the class methods but make the transform
    unpicklable (which breaks ``spawn`` dataloader workers). Deleting them
    falls back to the identical class attributes.

    Args:
        transforms (BaseTransform | Iterable): The (nested) transforms.
    """
    if isinstance(transforms, BaseTransform):
        names = ['transform'] + list(
            getattr(transforms, '_methods_with_randomness', []))
        inst = vars(transforms)
        for name in names:
            if name in inst and any(
                    name in vars(c) for c in type(transforms).__mro__):
                delattr(transforms, name)
    if isinstance(transforms, Iterable):
        for t in transforms:
            _drop_instance_method_overrides(t)


@TRANSFORMS.register_module()
class TrackletBroadcaster(TransformBroadcaster):
    """Apply image transforms to every frame with one shared random draw.

    ``TrackletBroadcaster(transforms=[...])`` is equivalent to
    ``mmcv.TransformBroadcaster(mapping={'img': key}, auto_remap=True,
    share_random_params=True, transforms=[...])`` plus the meta-key
    write-back described in the module docstring.

    Required keys: ``key`` (list of ``H x W x C`` arrays, ``T`` frames).

    Modified keys: ``key`` (list of ``T`` transformed frames); ``img_shape``
    (``(H', W')``), and ``scale``, ``scale_factor``, ``keep_ratio``,
    ``flip``, ``flip_direction`` when produced by the wrapped transforms.

    Args:
        transforms (list[dict | callable]): Image transforms that act on
            ``results['img']``. Dicts are built with the ``mmdcct``
            ``TRANSFORMS`` registry.
        key (str): The result key holding the frame list. Defaults to
            'imgs'.
        share_random_params (bool): Share the random draw across frames.
            Defaults to True (the whole point; False gives per-frame draws).
    """

    SHARED_META_KEYS = ('img_shape', 'scale', 'scale_factor', 'keep_ratio',
                        'flip', 'flip_direction')

    def __init__(self,
                 transforms: List[Union[Dict, Callable[[Dict], Dict]]],
                 key: str = 'imgs',
                 share_random_params: bool = True) -> None:
        built = [
            TRANSFORMS.build(t) if isinstance(t, dict) else t
            for t in transforms
        ]
        super().__init__(
            transforms=built,
            mapping={'img': key},
            auto_remap=True,
            share_random_params=share_random_params)
        self.key = key

    def transform(self, results: Dict) -> Dict:
        """Transform all frames with one shared random draw.

        Args:
            results (dict): Must contain ``key`` (list of ``T`` frames).

        Returns:
            dict: ``results`` with the transformed frames and meta keys.
        """
        try:
            return super().transform(results)
        finally:
            _drop_instance_method_overrides(self.transforms)

    def _map_output(self, data: Dict,
                    remapping: Optional[Dict]) -> Dict[str, Any]:
        """Remap the frames and gather the frame-level meta keys.

        Args:
            data (dict): Per-key lists of the ``T`` per-frame outputs.
            remapping (dict, optional): The output key mapping.

        Returns:
            dict: ``{key: frames}`` plus the shared meta keys.
        """
        outputs = super()._map_output(data, remapping)
        frames = outputs.get(self.key)
        if isinstance(frames, list) and frames and all(
                hasattr(f, 'shape') for f in frames):
            # the true (H, W) of the frames; transforms disagree on whether
            # ``img_shape`` holds the channel dimension
            shapes = [tuple(f.shape[:2]) for f in frames]
            outputs['img_shape'] = shapes[0] if len(set(shapes)) == 1 \
                else shapes
        for k in self.SHARED_META_KEYS:
            if k in outputs or k not in data:
                continue
            values = data[k]
            if not isinstance(values, list) or not values:
                continue
            outputs[k] = values[0] if _all_equal(values) else list(values)
        return outputs

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(transforms={self.transforms}, '
                f"key='{self.key}', "
                f'share_random_params={self.share_random_params})')


@TRANSFORMS.register_module()
class TrackletRandomErasing(_MMPretrainRandomErasing):
    """``mmpretrain.RandomErasing`` whose random fill is shareable too.

    Same arguments and behaviour as ``mmpretrain.RandomErasing``; the only
    difference is that with ``mode='rand'`` the noise patch is drawn in a
    ``@cache_randomness`` method, so inside :class:`TrackletBroadcaster`
    every frame gets the same rectangle *and* the same noise. With
    ``mode='const'`` it gives the mmpretrain transform's output, filling the
    rectangle without building a patch first.

    Required keys: ``img`` (``H x W x 3``). Modified keys: ``img``.

    Args:
        erase_prob (float): Probability of erasing. Defaults to 0.5.
        min_area_ratio (float): Minimum erased area / image area.
            Defaults to 0.02.
        max_area_ratio (float): Maximum erased area / image area.
            Defaults to 0.4.
        aspect_range (sequence | float): Aspect ratio range of the erased
            rectangle. Defaults to (3/10, 10/3).
        mode (str): ``'const'`` (fill with ``fill_color``) or ``'rand'``
            (uniform 0..255 noise, or normal with ``fill_std``).
            Defaults to 'const'.
        fill_color (sequence | Number): Base fill colour, RGB.
            Defaults to (124, 116, 104) (ImageNet mean).
        fill_std (sequence | Number, optional): Std of the normal noise in
            ``'rand'`` mode. Defaults to None (uniform noise).
    """

    # own copy: ``cache_randomness.__set_name__`` appends to the inherited
    # list otherwise, which would leak our method into the parent class.
    _methods_with_randomness = list(
        getattr(_MMPretrainRandomErasing, '_methods_with_randomness', []))

    def __init__(
            self,
            erase_prob: float = 0.5,
            min_area_ratio: float = 0.02,
            max_area_ratio: float = 0.4,
            aspect_range: Union[Sequence[float], float] = (3 / 10, 10 / 3),
            mode: str = 'const',
            fill_color: Union[Sequence[float], float] = (124, 116, 104),
            fill_std: Optional[Union[Sequence[float], float]] = None) -> None:
        super().__init__(
            erase_prob=float(erase_prob),
            min_area_ratio=float(min_area_ratio),
            max_area_ratio=float(max_area_ratio),
            aspect_range=tuple(float(a) for a in aspect_range) if isinstance(
                aspect_range, Sequence) else float(aspect_range),
            mode=mode,
            fill_color=fill_color,
            fill_std=fill_std)

    @cache_randomness
    def random_fill(self, h: int, w: int) -> np.ndarray:
        """Draw the ``h x w x 3`` ``uint8`` noise patch of ``'rand'`` mode."""
        if self.fill_std is None:
            return np.random.uniform(0, 256, (h, w, 3)).astype(np.uint8)
        patch = np.random.normal(self.fill_color, self.fill_std, (h, w, 3))
        return np.clip(patch.astype(np.int32), 0, 255).astype(np.uint8)

    def _fill_pixels(self, img: np.ndarray, top: int, left: int, h: int,
                     w: int) -> np.ndarray:
        """Fill the ``h x w`` rectangle at ``(top, left)`` of ``img``."""
        if self.mode == 'const':
            # mmpretrain's colour cast, broadcast straight into the image
            # (it first builds an h x w x 3 patch for every frame)
            img[top:top + h, left:left + w] = np.array(
                self.fill_color, dtype=np.uint8)
            return img
        img[top:top + h, left:left + w] = self.random_fill(h, w)
        return img
