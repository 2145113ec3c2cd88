"""Tell the tracklets of a folder apart by the names of its frames.

A folder of frames is one tracklet, unless its file names say otherwise:

- MARS names ``0001C1T0001F001.jpg`` (identity, camera, tracklet, frame):
  an identity folder of MARS (``bbox_test/0001/``) holds every tracklet of
  the identity, from every camera. The frames are grouped by (identity,
  camera, tracklet), one tracklet per group, labelled ``C1T0001`` (with the
  identity in front, ``0001C1T0001``, when the folder holds several).
- DukeMTMC-VideoReID names ``0001_C6_F0017_X30823.jpg`` (identity, camera,
  frame) carry no tracklet number: a folder of them is one tracklet when
  all frames share identity and camera and no frame number repeats, and is
  refused otherwise (the dataset keeps every tracklet in its own folder).
- A folder mixing such names with other file names, or the two
  conventions, is refused: which frames belong together is unknown.

Cameras are returned as written in the names (1-based: ``C1`` is camera 1).
"""
import os.path as osp
import re
from collections import OrderedDict
from typing import List, Optional, Sequence

__all__ = [
    'MARS_FRAME_PATTERN', 'DUKE_FRAME_PATTERN', 'split_tracklet_frames'
]

#: ``0001C1T0001F001.jpg``; ``00-1`` is the junk identity (-1).
MARS_FRAME_PATTERN = re.compile(r'^(?P<pid>\d{4}|00-1)C(?P<camid>\d+)'
                                r'T(?P<tracklet>\d+)F(?P<frame>\d+)')
#: ``0001_C6_F0017_X30823.jpg`` (and ``0001C6F0017X30823.jpg``).
DUKE_FRAME_PATTERN = re.compile(r'^(?P<pid>\d+)_?C(?P<camid>\d+)_?'
                                r'F(?P<frame>\d+)(?:_?X\d+)?')

_CONVENTIONS = OrderedDict(
    mars=(MARS_FRAME_PATTERN, 'MARS (<pid>C<cam>T<tracklet>F<frame>, e.g. '
          '0001C1T0001F001.jpg)'),
    duke=(DUKE_FRAME_PATTERN, 'DukeMTMC-VideoReID (<pid>_C<cam>_F<frame>_X<n>'
          ', e.g. 0001_C6_F0017_X30823.jpg)'))


def _examples(names: Sequence[str], num: int = 3) -> str:
    return ', '.join(repr(n) for n in list(names)[:num])


def _pid(text: str) -> int:
    return -1 if text == '00-1' else int(text)


def split_tracklet_frames(frames: Sequence[str],
                          folder: Optional[str] = None) -> List[dict]:
    """Group the frames of one folder into tracklets by their names.

    Args:
        frames (Sequence[str]): The folder's frame paths, in temporal order
            (see :func:`mmdcct.apis.list_tracklet_frames`).
        folder (str, optional): The folder, for the messages. Defaults to
            the folder of the first frame.

    Returns:
        list[dict]: One dict per tracklet, sorted by identity, camera and
        tracklet number: ``label`` (``'C1T0001'``, ``'0001C1T0001'``, or
        None when the folder is one tracklet), ``frames`` (paths, in frame
        order), ``pid``, ``camid`` (1-based, as written) and ``tracklet``
        (ints; None when the names do not carry them).

    Raises:
        ValueError: If the folder mixes naming conventions, or holds
            DukeMTMC-VideoReID frames of several tracklets.
    """
    frames = list(frames)
    if folder is None:
        folder = osp.dirname(frames[0]) if frames else ''
    names = [osp.basename(f) for f in frames]
    parsed, kinds = [], []
    for name in names:
        for kind, (pattern, _) in _CONVENTIONS.items():
            match = pattern.match(name)
            if match is not None:
                parsed.append(match)
                kinds.append(kind)
                break
        else:
            parsed.append(None)
            kinds.append(None)
    found = set(kinds)
    if found == {None} or not frames:
        return [
            dict(
                label=None,
                frames=frames,
                pid=None,
                camid=None,
                tracklet=None)
        ]
    if len(found) > 1:
        parts = []
        for kind, (_, desc) in _CONVENTIONS.items():
            of_kind = [n for n, k in zip(names, kinds) if k == kind]
            if of_kind:
                parts.append(f'{len(of_kind)} {desc.split(" (")[0]} names '
                             f'(e.g. {_examples(of_kind, 2)})')
        others = [n for n, k in zip(names, kinds) if k is None]
        if others:
            parts.append(f'{len(others)} names in no known convention (e.g. '
                         f'{_examples(others, 2)})')
        raise ValueError(
            f'Folder {folder!r} mixes {" and ".join(parts)}: which frames '
            'form a tracklet cannot be told. Keep one tracklet per folder '
            '(or one MARS identity folder with MARS names only) and move '
            'the other files out.')
    kind = found.pop()
    if kind == 'duke':
        groups = {(_pid(m['pid']), int(m['camid'])) for m in parsed}
        frame_nums = [(int(m['camid']), int(m['frame'])) for m in parsed]
        repeated = len(set(frame_nums)) < len(frame_nums)
        if len(groups) > 1 or repeated:
            what = (f'{len(groups)} (identity, camera) pairs '
                    f'{sorted(groups)[:5]}' if len(groups) > 1 else
                    'repeated frame numbers')
            raise ValueError(
                f'Folder {folder!r} holds DukeMTMC-VideoReID frames of '
                f'several tracklets ({what}); these names carry no tracklet '
                'number, so the tracklets cannot be split apart. Put every '
                'tracklet in its own folder, as the dataset does '
                '(<pid>/<tracklet>/<pid>_C<cam>_F<frame>_X<n>.jpg).')
        m = parsed[0]
        order = sorted(
            range(len(frames)), key=lambda i: int(parsed[i]['frame']))
        return [
            dict(
                label=None,
                frames=[frames[i] for i in order],
                pid=_pid(m['pid']),
                camid=int(m['camid']),
                tracklet=None)
        ]
    # MARS: one tracklet per (identity, camera, tracklet number)
    groups: dict = {}
    for i, m in enumerate(parsed):
        key = (_pid(m['pid']), int(m['camid']), int(m['tracklet']))
        groups.setdefault(key, []).append(i)
    several_ids = len({k[0] for k in groups}) > 1
    out = []
    for key in sorted(groups):
        rows = sorted(groups[key], key=lambda i: int(parsed[i]['frame']))
        m = parsed[rows[0]]
        label = f'C{m["camid"]}T{m["tracklet"]}'
        if several_ids:
            label = m['pid'] + label
        out.append(
            dict(
                label=label if len(groups) > 1 else None,
                frames=[frames[i] for i in rows],
                pid=key[0],
                camid=key[1],
                tracklet=key[2]))
    return out
