"""Splitting MARS identity folders into tracklets and refusing folders whose
tracklets cannot be told apart (no model needed: names only)."""
import os
import os.path as osp

import pytest

from mmdcct.apis import find_tracklets, split_tracklet_frames


def make_folder(root, names):
    os.makedirs(root, exist_ok=True)
    for name in names:
        open(osp.join(root, name), 'wb').close()
    return str(root)


MARS_ID_FOLDER = [
    '0001C1T0001F002.jpg', '0001C1T0001F001.jpg', '0001C1T0001F010.jpg',
    '0001C6T0003F001.jpg', '0001C6T0003F002.jpg', '0001C1T0002F001.jpg'
]


def test_mars_identity_folder_is_split(tmp_path):
    folder = make_folder(tmp_path / '0001', MARS_ID_FOLDER)
    tracks = find_tracklets(folder)
    assert [t['name'] for t in tracks] == [
        osp.join(folder, 'C1T0001'),
        osp.join(folder, 'C1T0002'),
        osp.join(folder, 'C6T0003')
    ]
    assert [osp.basename(f) for f in tracks[0]['frames']] == [
        '0001C1T0001F001.jpg', '0001C1T0001F002.jpg', '0001C1T0001F010.jpg'
    ]
    assert [(t['pid'], t['camid']) for t in tracks] == [(1, 1), (1, 1),
                                                        (1, 6)]
    assert all(t['path'] == folder for t in tracks)
    assert sum(len(t['frames']) for t in tracks) == len(MARS_ID_FOLDER)
    # a collection of identity folders (bbox_test/) is expanded, then split
    make_folder(tmp_path / '0002', ['0002C3T0001F001.jpg'])
    names = [t['name'] for t in find_tracklets(str(tmp_path))]
    assert names[-1] == str(tmp_path / '0002')  # one tracklet: not split
    assert len(names) == 4
    # no parsing: no ids, still split
    assert find_tracklets(folder, pattern=None)[2]['camid'] is None


def test_several_identities_keep_the_id_in_the_label():
    parts = split_tracklet_frames(
        ['x/0001C1T0001F001.jpg', 'x/00-1C2T0001F001.jpg'])
    assert [p['label'] for p in parts] == ['00-1C2T0001', '0001C1T0001']
    assert [p['pid'] for p in parts] == [-1, 1]


def test_plain_and_single_tracklet_folders_are_one_tracklet(tmp_path):
    plain = make_folder(tmp_path / 'person_a', ['a_1.jpg', 'a_2.jpg'])
    (track, ) = find_tracklets(plain)
    assert track['label'] is None and track['name'] == plain
    assert track['pid'] is None
    duke = make_folder(tmp_path / 'duke', [
        '0001_C6_F0017_X30823.jpg', '0001_C6_F0003_X30823.jpg'
    ])
    (track, ) = find_tracklets(duke)
    assert track['label'] is None
    assert [osp.basename(f)[8:13] for f in track['frames']
            ] == ['F0003', 'F0017']


def test_mixed_names_are_refused(tmp_path):
    folder = make_folder(tmp_path / 'mixed',
                         MARS_ID_FOLDER[:2] + ['frame_001.jpg'])
    with pytest.raises(ValueError) as err:
        find_tracklets(folder)
    msg = str(err.value)
    assert folder in msg
    assert '2 MARS names' in msg and '1 names in no known convention' in msg
    assert "'frame_001.jpg'" in msg and 'which frames form a tracklet' in msg
    both = make_folder(tmp_path / 'both',
                       MARS_ID_FOLDER[:1] + ['0001_C6_F0017_X30823.jpg'])
    with pytest.raises(ValueError, match='MARS names .* DukeMTMC-VideoReID'):
        find_tracklets(both)


@pytest.mark.parametrize('names, reason', [
    (['0001_C6_F0017_X1.jpg', '0001_C2_F0001_X1.jpg'], r'2 \(identity, '
     r'camera\) pairs'),
    (['0001_C6_F0017_X1.jpg', '0001_C6_F0017_X2.jpg'], 'repeated frame'),
])
def test_duke_frames_of_several_tracklets_are_refused(tmp_path, names,
                                                      reason):
    folder = make_folder(tmp_path / 'duke', names)
    with pytest.raises(ValueError, match=reason + '.*own folder'):
        find_tracklets(folder)
