"""Smoke test of the ``faiss`` sub-benchmark (not timed) at a tiny size:
every backend gets a row, the flat index's recall is 1, the approximate
ones' recall is high on the clustered features, the report is written and
the thread settings are restored."""
import importlib.util
import json
import os.path as osp

import faiss
import numpy as np
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _cli():
    spec = importlib.util.spec_from_file_location(
        'benchmark_cli_faiss',
        osp.join(REPO, 'tools', 'analysis_tools', 'benchmark.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_faiss_benchmark_smoke(tmp_path, capsys):
    out = str(tmp_path / 'report.json')
    threads = torch.get_num_threads(), faiss.omp_get_max_threads()
    report = _cli().main([
        'faiss', '--gallery-sizes', '2000', '--num-query', '40',
        '--dim', '32', '--indexes', 'exact', 'faiss-flat', 'faiss-ivf',
        'faiss-hnsw', '--nprobe', '2', '8', '--hnsw-m', '8',
        '--ef-construction', '32', '--ef-search', '16', '64', '--threads',
        '1', '--noise', '0.6', '--out', out
    ])
    assert (torch.get_num_threads(), faiss.omp_get_max_threads()) == threads
    with open(out) as f:
        assert json.load(f)['benchmark'] == 'faiss'
    assert report['environment']['faiss'] == faiss.__version__
    rows = report['results']
    for size in (2000, ):
        mine = [r for r in rows if r['gallery_size'] == size]
        assert [r['index'] for r in mine] == [
            'exact', 'faiss-flat', 'faiss-ivf', 'faiss-ivf', 'faiss-hnsw',
            'faiss-hnsw'
        ]
        assert mine[1]['recall'] == 1.0
        # flat: the float32 vectors; IVF: + int64 ids + centroids
        assert mine[1]['index_mib'] * 2**20 == 2000 * 32 * 4
        nlist = int(mine[2]['params'].split()[0].split('=')[1])
        assert mine[2]['index_mib'] * 2**20 == 2000 * (32 * 4 + 8) + \
            nlist * 32 * 4
        assert mine[4]['index_mib'] > mine[1]['index_mib']  # + links
        ivf = mine[2:4]
        assert [r['params'].split()[-1] for r in ivf] == [
            'nprobe=2', 'nprobe=8'
        ]
        # more cells scanned: at least as many true neighbours
        assert ivf[1]['recall'] >= ivf[0]['recall']
        assert ivf[1]['recall'] >= 0.9
        assert mine[5]['recall'] >= 0.9
        for r in mine:
            assert r['queries_per_s'] > 0 and np.isfinite(r['build_s'])
            assert r['peak_rss_mib'] > 0 and r['noise'] == 0.6
    printed = capsys.readouterr().out
    assert 'recall@10' in printed and 'faiss-hnsw' in printed


def test_clustered_gallery_shape_and_clusters():
    _cli()  # puts the ``benchmarks`` package on sys.path
    from benchmarks.faiss_search import make_clustered_gallery, recall_at_k
    data = make_clustered_gallery(2000, 50, dim=16, block=300)
    assert data['gallery'].shape == (2000, 16)
    assert data['gallery'].dtype == np.float32
    np.testing.assert_allclose(
        np.linalg.norm(data['gallery'], axis=1), 1, atol=1e-5)
    # same-identity pairs are much closer than others
    g, ids = data['gallery'], data['gallery_ids']
    sims = g[:200] @ g[:200].T
    same = ids[:200, None] == ids[None, :200]
    np.fill_diagonal(same, False)
    other = ~same
    np.fill_diagonal(other, False)
    assert sims[same].mean() > sims[other].mean() + 0.3
    assert recall_at_k(np.array([[1, 2, -1]]), np.array([[2, 1, 3]])) == \
        2 / 3
