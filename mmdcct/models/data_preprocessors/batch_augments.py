"""Batch-level (on-device) tracklet augmentation for the data preprocessor.

The CPU train pipeline flips and erases every frame inside
:class:`~mmdcct.datasets.transforms.TrackletBroadcaster`, one random draw per
tracklet shared by its ``T`` frames. The modules here do the same on the
stacked batch ``(B, T, 3, H, W)`` on the model's device, so the dataloader
workers only decode, resize and crop. They are built by
:class:`VideoReIDDataPreprocessor` from its ``batch_augments`` list and run in
training only, on the float batch in the 0-255 pixel range *before*
normalisation (and before the ``to_rgb`` channel swap), so ``fill_color``
means exactly what it means for the CPU transforms.

Every module is vectorised over the batch (masks built with broadcasting, no
Python loop over tracklets or frames), draws its random numbers with
``torch`` on the batch's device (no host synchronisation; reproducible under
``torch.manual_seed`` or an explicit ``torch.Generator``), and splits its
work into

- ``sample_params(batch_size, height, width, device, generator=None)``: the
  per-tracklet random decisions, as tensors;
- ``apply(inputs, params)``: the deterministic augmentation given them;

``forward(inputs, generator=None)`` is ``apply(inputs, sample_params(...))``.
Tests (or other callers) can force the decisions by building ``params``
themselves.
"""
import math
from numbers import Number
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from mmdcct.registry import MODELS

__all__ = ['TrackletBatchFlip', 'TrackletBatchRandomErasing']


def _check_batch(name: str, inputs: torch.Tensor) -> None:
    """Raise unless ``inputs`` is a ``(B, T, 3, H, W)`` tensor."""
    if not isinstance(inputs, torch.Tensor) or inputs.dim() != 5 \
            or inputs.shape[2] != 3:
        shape = tuple(inputs.shape) if isinstance(inputs, torch.Tensor) \
            else type(inputs).__name__
        raise ValueError(f'{name} expects inputs of shape (B, T, 3, H, W), '
                         f'got {shape}')


def _check_prob(name: str, field: str, value: float) -> float:
    """Return ``value`` as a float, raising unless it is in [0, 1]."""
    if not isinstance(value, Number) or isinstance(value, bool) \
            or not 0. <= float(value) <= 1.:
        raise ValueError(f'{name}: {field} must be a number in [0, 1], got '
                         f'{value!r}')
    return float(value)


def _three_values(name: str, field: str,
                  value: Union[Sequence[float], float]) -> Tuple[float, ...]:
    """Broadcast a number to 3 channels; check a sequence has 3 numbers."""
    if isinstance(value, Number) and not isinstance(value, bool):
        value = [value] * 3
    if not isinstance(value, Sequence) or len(value) != 3 or not all(
            isinstance(v, Number) and not isinstance(v, bool) for v in value):
        raise ValueError(f'{name}: {field} must be a number or a sequence of '
                         f'3 numbers, got {value!r}')
    return tuple(float(v) for v in value)


class _TrackletBatchAugment(nn.Module):
    """Base of the batch augments: ``forward`` = ``apply(sample_params)``.

    Subclasses implement ``sample_params(batch_size, height, width, device,
    generator=None)`` (the per-tracklet random decisions) and
    ``apply(inputs, params)`` (the deterministic augmentation).
    """

    def forward(self,
                inputs: torch.Tensor,
                generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Augment each tracklet of the batch with its own random draw.

        Args:
            inputs (torch.Tensor): Batch of shape ``(B, T, 3, H, W)``.
            generator (torch.Generator, optional): RNG on the batch's device.

        Returns:
            torch.Tensor: The batch, shape ``(B, T, 3, H, W)``.
        """
        _check_batch(type(self).__name__, inputs)
        b, _, _, h, w = inputs.shape
        return self.apply(
            inputs, self.sample_params(b, h, w, inputs.device, generator))


@MODELS.register_module()
class TrackletBatchFlip(_TrackletBatchAugment):
    """Flip whole tracklets of a batch, one draw per tracklet.

    The batch counterpart of ``mmcv.RandomFlip(prob, direction)`` inside
    ``TrackletBroadcaster``: each tracklet is flipped with probability
    ``prob``, all its ``T`` frames alike.

    Args:
        prob (float): Probability of flipping a tracklet. Defaults to 0.5.
        direction (str): ``'horizontal'`` (mirror the width),
            ``'vertical'`` (the height) or ``'diagonal'`` (both), as in
            ``mmcv.RandomFlip``. Defaults to 'horizontal'.
    """

    DIMS = {'horizontal': (-1, ), 'vertical': (-2, ), 'diagonal': (-2, -1)}

    def __init__(self,
                 prob: float = 0.5,
                 direction: str = 'horizontal') -> None:
        super().__init__()
        name = type(self).__name__
        self.prob = _check_prob(name, 'prob', prob)
        if direction not in self.DIMS:
            raise ValueError(f'{name}: direction must be one of '
                             f'{sorted(self.DIMS)}, got {direction!r}')
        self.direction = direction

    def sample_params(
            self,
            batch_size: int,
            height: Optional[int] = None,
            width: Optional[int] = None,
            device: Union[torch.device, str, None] = None,
            generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Draw which tracklets are flipped.

        Args:
            batch_size (int): Number of tracklets ``B``.
            height (int, optional): Frame height (unused; uniform API).
            width (int, optional): Frame width (unused; uniform API).
            device (torch.device | str, optional): Device of the draw.
            generator (torch.Generator, optional): RNG on ``device``;
                the global torch RNG of that device when None.

        Returns:
            torch.Tensor: Bool flip mask of shape ``(B, )``.
        """
        return torch.rand(
            batch_size, device=device, generator=generator) < self.prob

    def apply(self, inputs: torch.Tensor,
              params: torch.Tensor) -> torch.Tensor:
        """Flip the tracklets selected by ``params``.

        Args:
            inputs (torch.Tensor): Batch of shape ``(B, T, 3, H, W)``.
            params (torch.Tensor): Bool flip mask of shape ``(B, )``.

        Returns:
            torch.Tensor: The batch, shape ``(B, T, 3, H, W)``.
        """
        _check_batch(type(self).__name__, inputs)
        if params.shape != inputs.shape[:1]:
            raise ValueError(f'{type(self).__name__}: params must be a flip '
                             f'mask of shape ({inputs.shape[0]},), got '
                             f'{tuple(params.shape)}')
        mask = params.to(device=inputs.device, dtype=torch.bool)
        flipped = inputs.flip(self.DIMS[self.direction])
        return torch.where(mask.view(-1, 1, 1, 1, 1), flipped, inputs)

    def extra_repr(self) -> str:
        return f"prob={self.prob}, direction='{self.direction}'"


@MODELS.register_module()
class TrackletBatchRandomErasing(_TrackletBatchAugment):
    """Erase one random rectangle per tracklet, the same in all its frames.

    The batch counterpart of ``mmpretrain.RandomErasing`` inside
    ``TrackletBroadcaster`` (same arguments, same sampling): a tracklet is
    erased with probability ``erase_prob``; its rectangle has an area ratio
    ``r ~ U(min_area_ratio, max_area_ratio)`` and an aspect ratio
    ``a = h / w`` log-uniform in ``aspect_range``, ``h = min(round(sqrt(r H W
    a)), H)``, ``w = min(round(sqrt(r H W / a)), W)`` (no retry: clamped to
    the frame, as mmpretrain does), and its corner is uniform in ``top ∈ [0,
    H - h)`` / ``left ∈ [0, W - w)`` (0 when the rectangle spans the frame).

    The fill, shared by all frames of the tracklet:

    - ``'const'``: ``fill_color``, cast like the CPU transform's ``uint8``
      patch (truncated to integers), so const erasing matches it exactly;
    - ``'rand'`` without ``fill_std``: uniform integer noise in 0..255;
    - ``'rand'`` with ``fill_std``: ``normal(fill_color, fill_std)`` noise,
      truncated to integers and clipped to 0..255.

    (The stock ``mmpretrain.RandomErasing`` draws fresh noise per frame in
    ``'rand'`` mode; this module behaves like ``TrackletRandomErasing``.)

    Args:
        erase_prob (float): Probability of erasing a tracklet.
            Defaults to 0.5.
        min_area_ratio (float): Minimum erased area / frame area.
            Defaults to 0.02.
        max_area_ratio (float): Maximum erased area / frame area.
            Defaults to 0.4.
        aspect_range (sequence | float): ``(min, max)`` of the aspect ratio
            ``h / w``; a float ``a`` means ``(min(a, 1/a), max(a, 1/a))``.
            Defaults to (0.3, 3.3).
        mode (str): ``'const'`` or ``'rand'``. Defaults to 'const'.
        fill_color (sequence | Number): Fill colour (in the channel order
            of the batch, RGB in mmdcct) in 0..255. Defaults to
            (124, 116, 104) (ImageNet mean).
        fill_std (sequence | Number, optional): Std of the normal noise in
            ``'rand'`` mode. Defaults to None (uniform noise).
    """

    def __init__(
            self,
            erase_prob: float = 0.5,
            min_area_ratio: float = 0.02,
            max_area_ratio: float = 0.4,
            aspect_range: Union[Sequence[float], float] = (0.3, 3.3),
            mode: str = 'const',
            fill_color: Union[Sequence[float], float] = (124, 116, 104),
            fill_std: Optional[Union[Sequence[float], float]] = None) -> None:
        super().__init__()
        name = type(self).__name__
        self.erase_prob = _check_prob(name, 'erase_prob', erase_prob)
        self.min_area_ratio = _check_prob(name, 'min_area_ratio',
                                          min_area_ratio)
        self.max_area_ratio = _check_prob(name, 'max_area_ratio',
                                          max_area_ratio)
        if self.min_area_ratio > self.max_area_ratio:
            raise ValueError(
                f'{name}: min_area_ratio ({min_area_ratio}) must not exceed '
                f'max_area_ratio ({max_area_ratio})')
        if isinstance(aspect_range, Number) and \
                not isinstance(aspect_range, bool) and aspect_range > 0:
            aspect_range = (min(aspect_range, 1 / aspect_range),
                            max(aspect_range, 1 / aspect_range))
        if not isinstance(aspect_range, Sequence) or len(aspect_range) != 2 \
                or not all(isinstance(a, Number) and a > 0
                           for a in aspect_range) \
                or aspect_range[0] > aspect_range[1]:
            raise ValueError(
                f'{name}: aspect_range must be a positive number or a '
                f'(min, max) pair of positive numbers with min <= max, got '
                f'{aspect_range!r}')
        self.aspect_range = tuple(float(a) for a in aspect_range)
        if mode not in ('const', 'rand'):
            raise ValueError(f"{name}: mode must be 'const' or 'rand', got "
                             f'{mode!r}')
        self.mode = mode
        self.fill_color = _three_values(name, 'fill_color', fill_color)
        if not all(0. <= c <= 255. for c in self.fill_color):
            raise ValueError(f'{name}: fill_color must lie in [0, 255], got '
                             f'{fill_color!r}')
        self.fill_std = None if fill_std is None else _three_values(
            name, 'fill_std', fill_std)
        # ``uint8`` cast of the CPU transform: truncation
        self.register_buffer(
            '_const_fill',
            torch.tensor(self.fill_color).floor().view(1, 3, 1, 1), False)
        self.register_buffer('_mean_fill',
                             torch.tensor(self.fill_color).view(1, 3, 1, 1),
                             False)
        self.register_buffer(
            '_std_fill',
            torch.tensor(self.fill_std or (0., 0., 0.)).view(1, 3, 1, 1),
            False)

    def sample_params(
        self,
        batch_size: int,
        height: int,
        width: int,
        device: Union[torch.device, str, None] = None,
        generator: Optional[torch.Generator] = None
    ) -> Dict[str, torch.Tensor]:
        """Draw each tracklet's erasing decision, rectangle and fill.

        Args:
            batch_size (int): Number of tracklets ``B``.
            height (int): Frame height ``H``.
            width (int): Frame width ``W``.
            device (torch.device | str, optional): Device of the draw.
                Defaults to the module's device.
            generator (torch.Generator, optional): RNG on ``device``;
                the global torch RNG of that device when None.

        Returns:
            dict[str, torch.Tensor]: ``erase`` (bool, ``(B, )``); ``top``,
            ``left``, ``height``, ``width`` (int64, ``(B, )``) of the
            rectangle; ``fill`` (float, ``(B, 3, 1, 1)`` in ``'const'``
            mode, ``(B, 3, H, W)`` in ``'rand'`` mode).
        """
        if device is None:
            device = self._const_fill.device
        u = torch.rand(5, batch_size, device=device, generator=generator)
        erase = u[0] < self.erase_prob
        log_lo, log_hi = (math.log(a) for a in self.aspect_range)
        aspect = torch.exp(log_lo + (log_hi - log_lo) * u[1])
        area = height * width * (
            self.min_area_ratio +
            (self.max_area_ratio - self.min_area_ratio) * u[2])
        h = torch.round(torch.sqrt(area * aspect)).clamp(max=height)
        w = torch.round(torch.sqrt(area / aspect)).clamp(max=width)
        # randint(0, H - h) (upper bound excluded), 0 if h == H
        top = torch.minimum(torch.floor(u[3] * (height - h)),
                            height - h - 1).clamp(min=0)
        left = torch.minimum(torch.floor(u[4] * (width - w)),
                             width - w - 1).clamp(min=0)
        if self.mode == 'const':
            fill = self._const_fill.to(device).expand(batch_size, 3, 1, 1)
        elif self.fill_std is None:
            noise = torch.rand(
                batch_size,
                3,
                height,
                width,
                device=device,
                generator=generator)
            fill = torch.floor(noise * 256).clamp(max=255)
        else:
            noise = torch.randn(
                batch_size,
                3,
                height,
                width,
                device=device,
                generator=generator)
            fill = (self._mean_fill.to(device) +
                    self._std_fill.to(device) * noise).trunc().clamp(0, 255)
        return dict(
            erase=erase,
            top=top.long(),
            left=left.long(),
            height=h.long(),
            width=w.long(),
            fill=fill)

    def apply(self, inputs: torch.Tensor,
              params: Dict[str, torch.Tensor]) -> torch.Tensor:
        """Erase the rectangles given by ``params``.

        Args:
            inputs (torch.Tensor): Batch of shape ``(B, T, 3, H, W)``.
            params (dict[str, torch.Tensor]): As returned by
                :meth:`sample_params`; ``fill`` must broadcast to
                ``(B, 3, H, W)``.

        Returns:
            torch.Tensor: The batch, shape ``(B, T, 3, H, W)``.
        """
        name = type(self).__name__
        _check_batch(name, inputs)
        b, _, _, height, width = inputs.shape
        missing = {'erase', 'top', 'left', 'height', 'width', 'fill'
                   } - set(params)
        if missing:
            raise KeyError(f'{name}: params lack {sorted(missing)}')
        device = inputs.device
        erase, top, left, h, w = (
            params[k].to(device).view(-1, 1, 1)
            for k in ('erase', 'top', 'left', 'height', 'width'))
        if erase.shape[0] != b:
            raise ValueError(f'{name}: params describe {erase.shape[0]} '
                             f'tracklets, the batch has {b}')
        rows = torch.arange(height, device=device).view(1, height, 1)
        cols = torch.arange(width, device=device).view(1, 1, width)
        mask = (erase.bool() & (rows >= top) & (rows < top + h)
                & (cols >= left) & (cols < left + w))  # (B, H, W)
        fill = params['fill'].to(device=device, dtype=inputs.dtype)
        fill = fill.expand(b, 3, height, width).unsqueeze(1)
        return torch.where(mask[:, None, None], fill, inputs)

    def extra_repr(self) -> str:
        return (f'erase_prob={self.erase_prob}, '
                f'min_area_ratio={self.min_area_ratio}, '
                f'max_area_ratio={self.max_area_ratio}, '
                f'aspect_range={self.aspect_range}, mode={self.mode!r}, '
                f'fill_color={self.fill_color}, fill_std={self.fill_std}')
