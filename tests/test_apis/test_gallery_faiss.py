"""GalleryIndex FAISS backends: the flat index returns the exact search's
hits, the approximate ones reach recall@10 >= 0.9 on clustered features,
and the backend (with its parameters and its saved FAISS index) survives a
save / load round trip."""
import json
import sys
import warnings

import numpy as np
import pytest

from mmdcct.apis import GalleryIndex


def clustered(num_gallery, num_query, dim=48, num_ids=None, noise=0.5,
              seed=0):
    """Identity centres plus noise (gallery and queries from the same
    centres)."""
    rng = np.random.default_rng(seed)
    num_ids = num_ids or max(1, num_gallery // 10)
    centres = rng.standard_normal((num_ids, dim))
    gal = centres[rng.integers(num_ids, size=num_gallery)]
    gal = gal + noise * rng.standard_normal(gal.shape)
    qry = centres[rng.integers(num_ids, size=num_query)]
    qry = qry + noise * rng.standard_normal(qry.shape)
    return gal.astype(np.float32), qry.astype(np.float32)


def recall(found, truth):
    return np.mean([
        len(set(f[f >= 0].tolist()) & set(t.tolist())) / truth.shape[1]
        for f, t in zip(found, truth)
    ])


@pytest.fixture(scope='module')
def data():
    return clustered(3000, 80)


def test_flat_equals_exact(data):
    gal, qry = data
    exact = GalleryIndex(gal)
    flat = GalleryIndex(gal, backend='faiss-flat')
    for topk in (1, 10, 50):
        d0, i0 = exact.search(qry, topk)
        d1, i1 = flat.search(qry, topk)
        assert d1.dtype == np.float32 and i1.dtype == np.int64
        np.testing.assert_array_equal(i1, i0)
        np.testing.assert_allclose(d1, d0, atol=1e-5)
    # a single query vector, and k larger than the gallery is clipped
    small = GalleryIndex(gal[:7], backend='faiss-flat')
    d, i = small.search(qry[0], 20)
    d_ref, i_ref = GalleryIndex(gal[:7]).search(qry[0], 20)
    assert i.shape == (1, 7)
    np.testing.assert_array_equal(i, i_ref)
    np.testing.assert_allclose(d, d_ref, atol=1e-5)


def test_flat_keeps_gallery_order_on_ties():
    # duplicated gallery rows: equal distances, ranked by gallery index
    gal = np.repeat(np.eye(4, dtype=np.float32), 3, axis=0)
    qry = np.array([[1., 0.1, 0., 0.]], dtype=np.float32)
    d0, i0 = GalleryIndex(gal).search(qry, 6)
    d1, i1 = GalleryIndex(gal, backend='faiss-flat').search(qry, 6)
    np.testing.assert_array_equal(i1, i0)
    assert i1[0, :3].tolist() == [0, 1, 2]
    np.testing.assert_allclose(d1, d0, atol=1e-5)


@pytest.mark.parametrize('backend, cfg', [
    ('faiss-ivf', dict(nlist=32, nprobe=4)),
    ('faiss-ivf', {}),
    ('faiss-hnsw', dict(m=16, ef_construction=40, ef_search=32)),
])
def test_approximate_recall(data, backend, cfg):
    gal, qry = data
    _, truth = GalleryIndex(gal).search(qry, 10)
    index = GalleryIndex(gal, backend=backend, backend_cfg=cfg)
    dist, found = index.search(qry, 10)
    assert recall(found, truth) >= 0.9
    assert (np.diff(dist, axis=1) >= 0).all()
    if backend == 'faiss-ivf':
        # the defaults were chosen from the gallery size and recorded
        resolved = index.search_backend
        assert resolved['type'] == 'faiss-ivf'
        assert resolved['nlist'] == cfg.get('nlist', 76)  # 3000 // 39
        assert 1 <= resolved['nprobe'] <= resolved['nlist']


def test_ivf_save_load_round_trip(data, tmp_path):
    gal, qry = data
    index = GalleryIndex(
        gal, [dict(path=f'g{i}') for i in range(len(gal))],
        info=dict(feature='base'),
        backend='faiss-ivf',
        backend_cfg=dict(nlist=40, nprobe=3, seed=1))
    before = index.search(qry, 10)
    index.save(tmp_path / 'gallery')
    assert (tmp_path / 'gallery.faiss').is_file()
    meta = json.loads((tmp_path / 'gallery.json').read_text())
    saved = meta['search_backend']
    assert saved['type'] == 'faiss-ivf'
    assert (saved['nlist'], saved['nprobe'], saved['seed']) == (40, 3, 1)
    assert saved['file'] == 'gallery.faiss'

    with warnings.catch_warnings():
        warnings.simplefilter('error')  # the saved index is adopted
        loaded = GalleryIndex.load(tmp_path / 'gallery.json')
    assert loaded.search_backend == index.search_backend
    after = loaded.search(qry, 10)
    np.testing.assert_array_equal(after[1], before[1])
    np.testing.assert_allclose(after[0], before[0], atol=1e-6)

    # a search-time parameter given at load: more cells scanned, never
    # fewer true neighbours found
    _, truth = GalleryIndex(gal).search(qry, 10)
    wide = GalleryIndex.load(tmp_path / 'gallery', backend_cfg=dict(
        nprobe=40))
    assert wide.search_backend['nprobe'] == 40
    assert recall(wide.search(qry, 10)[1], truth) == pytest.approx(1.0)
    assert recall(wide.search(qry, 10)[1], truth) >= recall(
        before[1], truth)

    # load with another backend
    exact = GalleryIndex.load(tmp_path / 'gallery', backend='exact')
    np.testing.assert_array_equal(exact.search(qry, 10)[1], truth)

    # features changed behind the index's back: warned and rebuilt
    np.savez(tmp_path / 'gallery.npz', features=loaded.features[::-1])
    with pytest.warns(UserWarning, match='built over other features'):
        stale = GalleryIndex.load(tmp_path / 'gallery')
    _, truth_rev = GalleryIndex(gal[::-1]).search(qry, 10)
    assert recall(stale.search(qry, 10)[1], truth_rev) >= 0.9


def test_flat_and_exact_save_no_faiss_file(data, tmp_path):
    gal, qry = data
    flat = GalleryIndex(gal[:100], backend='faiss-flat')
    flat.save(tmp_path / 'g')
    assert not (tmp_path / 'g.faiss').exists()
    loaded = GalleryIndex.load(tmp_path / 'g')
    assert loaded.backend == 'faiss-flat'
    np.testing.assert_array_equal(
        loaded.search(qry, 5)[1],
        GalleryIndex(gal[:100]).search(qry, 5)[1])
    # an old index file without a backend entry searches exactly
    meta = json.loads((tmp_path / 'g.json').read_text())
    del meta['search_backend']
    (tmp_path / 'g.json').write_text(json.dumps(meta))
    assert GalleryIndex.load(tmp_path / 'g').backend == 'exact'


def test_hnsw_round_trip(data, tmp_path):
    gal, qry = data
    index = GalleryIndex(gal[:500], backend='faiss-hnsw',
                         backend_cfg=dict(m=8, ef_construction=20,
                                          ef_search=16))
    before = index.search(qry, 5)
    index.save(tmp_path / 'h')
    loaded = GalleryIndex.load(tmp_path / 'h')
    assert loaded.search_backend == dict(type='faiss-hnsw', m=8,
                                         ef_construction=20, ef_search=16)
    np.testing.assert_array_equal(loaded.search(qry, 5)[1], before[1])


def test_add_rebuilds_and_search_params_keep_the_index(data):
    gal, qry = data
    index = GalleryIndex(gal[:1000], backend='faiss-ivf',
                         backend_cfg=dict(nlist=10, nprobe=10))
    index.search(qry, 3)
    built = index.build_search_backend()
    index.set_backend('faiss-ivf', nprobe=5)
    assert index.build_search_backend() is built
    assert built.nprobe == 5
    index.set_backend('faiss-ivf', nlist=20)
    assert index.build_search_backend() is not built
    # appended entries are found: a query equal to a new entry hits it
    index.add(qry[:2], [dict(path='q0'), dict(path='q1')])
    dist, ind = index.search(qry[:2], 1)
    assert ind[:, 0].tolist() == [1000, 1001]
    np.testing.assert_allclose(dist, 0, atol=1e-5)


def test_ivf_pads_missing_hits_and_lookup_skips_them():
    # two far clusters of 3 and 60 entries, 2 cells, 1 cell scanned: a
    # query in the small cluster finds 3 entries of the 5 asked for
    rng = np.random.default_rng(0)
    a = np.eye(8, dtype=np.float32)[0] + 0.01 * rng.standard_normal((3, 8))
    b = np.eye(8, dtype=np.float32)[1] + 0.01 * rng.standard_normal((60, 8))
    gal = np.concatenate([a, b]).astype(np.float32)
    index = GalleryIndex(gal, backend='faiss-ivf',
                         backend_cfg=dict(nlist=2, nprobe=1))
    dist, ind = index.search(np.eye(8, dtype=np.float32)[0], 5)
    assert sorted(ind[0, :3].tolist()) == [0, 1, 2]
    assert ind[0, 3:].tolist() == [-1, -1]
    assert np.isinf(dist[0, 3:]).all()
    hits = index.lookup(dist, ind)
    assert [h['index'] for h in hits[0]] == ind[0, :3].tolist()


def test_bad_backend_arguments(data):
    gal, _ = data
    with pytest.raises(ValueError, match='Unknown search backend'):
        GalleryIndex(gal, backend='annoy')
    with pytest.raises(ValueError, match=r"takes \['ef_construction'"):
        GalleryIndex(gal, backend='faiss-hnsw', backend_cfg=dict(nlist=3))
    with pytest.raises(ValueError, match='nprobe must be an int >= 1'):
        GalleryIndex(gal, backend='faiss-ivf', backend_cfg=dict(nprobe=0))
    index = GalleryIndex(gal[:20], backend='faiss-ivf',
                         backend_cfg=dict(nlist=50))
    with pytest.raises(ValueError, match='nlist=50 cells for 20'):
        index.search(gal[:1], 3)
    with pytest.raises(ValueError, match=r'must be \(Q, 48\)'):
        GalleryIndex(gal, backend='faiss-flat').search(gal[:2, :10], 3)


def test_missing_faiss_names_the_extra(data, monkeypatch):
    gal, qry = data
    monkeypatch.setitem(sys.modules, 'faiss', None)  # import fails
    with pytest.raises(ImportError, match=r"mmdcct\[faiss\]"):
        GalleryIndex(gal, backend='faiss-flat')
    # the exact search needs no faiss
    assert GalleryIndex(gal).search(qry, 3)[1].shape == (len(qry), 3)
