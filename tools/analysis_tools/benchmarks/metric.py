"""The ``metric`` benchmark: camera-aware CMC/mAP, vectorised vs a loop.

:func:`mmdcct.evaluation.functional.evaluate_rank` against a plain per-query
NumPy loop of the same protocol (numbers checked equal), on random features
with MARS-like id / camera statistics (1,980 queries x 11,310 gallery
tracklets = the 9,330 gallery tracklets plus the appended queries). One
scenario per ``--noise`` value: the default 2.1 gives features like a trained
model's (mAP ~80), 50 nearly random ones (an untrained model) — the ranking
cost depends on it. ``--gallery-size`` additionally evaluates a large gallery
(e.g. 100,000) with the chunked feature -> distance -> rank path, in a fresh
process so that its peak RSS is its own. ``--re-ranking`` / ``--aqe`` time the
test-time options (k-reciprocal re-ranking, average query expansion, both)
on the MARS-scale problem, each in a fresh process (time and peak RSS).
"""
import argparse
import multiprocessing
from typing import Dict, List, Sequence

import numpy as np
import torch

from mmdcct.evaluation.functional import (average_query_expansion,
                                          compute_distance, evaluate_rank,
                                          evaluate_rank_from_features,
                                          rank_topk, re_ranking_from_features)
from .common import (best_time, current_rss_mib, environment, peak_rss_mib,
                     print_table)

__all__ = [
    'make_mars_like', 'loop_evaluate_rank', 'add_metric_args', 'run_metric'
]

# MARS test-set statistics (the MARS evaluation protocol of the paper).
MARS_NUM_QUERY = 1980
MARS_NUM_GALLERY = 9330  # without the appended queries
MARS_NUM_QUERY_IDS = 626
MARS_NUM_ABSENT_IDS = 14  # query ids with no gallery tracklet
MARS_NUM_DISTRACTORS = 3248  # id 0
MARS_NUM_CAMS = 6

# --------------------------------------------------------------------------
# metric
# --------------------------------------------------------------------------
def make_mars_like(num_query: int = MARS_NUM_QUERY,
                   num_gallery: int = MARS_NUM_GALLERY,
                   dim: int = 512,
                   noise: float = 2.1,
                   seed: int = 0) -> Dict[str, np.ndarray]:
    """Random tracklet features with MARS-like ids and cameras.

    Queries: one per (identity, camera), about 3.2 cameras per identity
    (626 identities for 1,980 queries), 6 cameras. Gallery: ~35% distractors
    (id 0, each with its own random centre), the rest spread over the query
    identities (none for ~2% of them), 85% of them in one of the identity's
    query cameras so that same-id-same-camera ("junk") entries are common,
    plus the query tracklets appended (as the literature does). Features are
    the identity centre plus Gaussian noise, written block-wise into one
    preallocated array to keep the memory at the size of the features.

    Args:
        num_query (int): Number of queries. Defaults to 1980.
        num_gallery (int): Number of gallery tracklets *before* the queries
            are appended. Defaults to 9330.
        dim (int): Feature dimension. Defaults to 512.
        noise (float): Standard deviation of the per-tracklet noise (the
            centres have unit variance per dimension). Defaults to 2.1
            (mAP about 80 at ``dim=512``).
        seed (int): Random seed. Defaults to 0.

    Returns:
        dict[str, np.ndarray]: ``q_feats`` ``(Q, dim)`` and ``g_feats``
        ``(G, dim)`` float32, ``q_pids``/``q_camids`` ``(Q,)``,
        ``g_pids``/``g_camids`` ``(G,)`` int64, with
        ``G = num_gallery + num_query``.
    """
    rng = np.random.default_rng(seed)
    cams_per_id = max(1.0, MARS_NUM_QUERY / MARS_NUM_QUERY_IDS)

    # queries: one per (identity, camera); id_cams[pid, :num_cams[pid]]
    q_pids: List[int] = []
    q_camids: List[int] = []
    id_cams = [np.zeros(MARS_NUM_CAMS, dtype=np.int64)]  # id 0: unused
    pid = 0
    while len(q_pids) < num_query:
        pid += 1
        k = int(np.clip(rng.poisson(cams_per_id - 1) + 1, 1, MARS_NUM_CAMS))
        cams = rng.choice(MARS_NUM_CAMS, size=k, replace=False)
        id_cams.append(np.resize(cams, MARS_NUM_CAMS))  # cyclic padding
        for cam in cams[:num_query - len(q_pids)]:
            q_pids.append(pid)
            q_camids.append(int(cam))
    num_ids = pid
    id_cams_arr = np.stack(id_cams)  # (num_ids + 1, 6)
    q_pids_arr = np.asarray(q_pids, dtype=np.int64)
    q_camids_arr = np.asarray(q_camids, dtype=np.int64)

    # gallery: distractors + tracklets of the (present) query identities
    num_distractors = int(
        round(num_gallery * MARS_NUM_DISTRACTORS / MARS_NUM_GALLERY))
    num_absent = int(round(num_ids * MARS_NUM_ABSENT_IDS / MARS_NUM_QUERY_IDS))
    present = rng.permutation(np.arange(1, num_ids + 1))[num_absent:]
    num_id_tracklets = num_gallery - num_distractors
    id_pids = rng.choice(present, size=num_id_tracklets)
    # 85% in one of the identity's query cameras (cyclic padding makes a
    # uniform column a uniform camera of the identity), else any camera
    own_cam = id_cams_arr[id_pids,
                          rng.integers(0, MARS_NUM_CAMS, num_id_tracklets)]
    any_cam = rng.integers(0, MARS_NUM_CAMS, num_id_tracklets)
    id_camids = np.where(rng.random(num_id_tracklets) < 0.85, own_cam, any_cam)
    g_pids = np.concatenate(
        [np.zeros(num_distractors, dtype=np.int64), id_pids, q_pids_arr])
    g_camids = np.concatenate([
        rng.integers(0, MARS_NUM_CAMS, num_distractors), id_camids,
        q_camids_arr
    ])

    # features: centre[pid] + noise; distractors get their own centre
    centers = rng.standard_normal((num_ids + 1, dim), dtype=np.float32)
    g_feats = np.empty((g_pids.shape[0], dim), dtype=np.float32)
    block = 8192
    for start in range(0, num_gallery, block):
        stop = min(start + block, num_gallery)
        g_feats[start:stop] = rng.standard_normal((stop - start, dim),
                                                  dtype=np.float32)
        g_feats[start:stop] *= noise
        ids = np.arange(start, stop)
        is_id = ids >= num_distractors
        g_feats[start:stop][is_id] += centers[g_pids[ids[is_id]]]
        g_feats[start:stop][~is_id] += rng.standard_normal((int(
            (~is_id).sum()), dim),
                                                           dtype=np.float32)
    q_feats = centers[q_pids_arr] + noise * rng.standard_normal(
        (num_query, dim), dtype=np.float32)
    g_feats[num_gallery:] = q_feats
    return dict(
        q_feats=q_feats,
        q_pids=q_pids_arr,
        q_camids=q_camids_arr,
        g_feats=g_feats,
        g_pids=g_pids,
        g_camids=g_camids)


def loop_evaluate_rank(
    distmat: np.ndarray,
    q_pids: np.ndarray,
    g_pids: np.ndarray,
    q_camids: np.ndarray,
    g_camids: np.ndarray,
    topk: Sequence[int] = (1, 5, 10, 20)) -> dict:
    """The straightforward per-query loop of the same protocol (the way
    torchreid-style code computes it), for comparison: every query's kept
    gallery is ranked in full by :func:`rank_topk`.

    Args:
        distmat (np.ndarray): Distances, shape ``(Q, G)``.
        q_pids (np.ndarray): Query ids, shape ``(Q,)``.
        g_pids (np.ndarray): Gallery ids, shape ``(G,)``.
        q_camids (np.ndarray): Query cameras, shape ``(Q,)``.
        g_camids (np.ndarray): Gallery cameras, shape ``(G,)``.
        topk (Sequence[int]): CMC ranks. Defaults to ``(1, 5, 10, 20)``.

    Returns:
        dict: Same keys as ``evaluate_rank``.
    """
    aps, inps, first_ranks = [], [], []
    for i in range(distmat.shape[0]):
        junk = (g_pids == q_pids[i]) & (g_camids == q_camids[i])
        order = rank_topk(distmat[i:i + 1], exclude=junk[None])[0][0]
        matches = g_pids[order[order >= 0]] == q_pids[i]
        if not matches.any():
            continue
        ranks = np.flatnonzero(matches) + 1  # 1-based, among kept entries
        aps.append(np.mean(np.arange(1, ranks.size + 1) / ranks))
        inps.append(ranks.size / ranks[-1])
        first_ranks.append(ranks[0])
    first_ranks = np.asarray(first_ranks)
    out = dict(mAP=float(np.mean(aps) * 100), mINP=float(np.mean(inps) * 100))
    for k in topk:
        out[f'R{k}'] = float(np.mean(first_ranks <= k) * 100)
    out['num_valid_queries'] = len(aps)
    out['num_skipped_queries'] = int(distmat.shape[0] - len(aps))
    return out


def max_abs_diff(a: dict, b: dict) -> float:
    """Largest absolute difference over the common keys of two results."""
    return max(abs(float(a[k]) - float(b[k])) for k in a)


def _large_gallery_child(gallery_size: int, args_dict: dict,
                         queue: 'multiprocessing.Queue') -> None:
    """Run the large-gallery evaluation in a fresh process (own peak RSS)."""
    if args_dict['torch_threads']:
        torch.set_num_threads(args_dict['torch_threads'])
    rss_imports = current_rss_mib()
    num_query = args_dict['num_query']
    data = make_mars_like(
        num_query=num_query,
        num_gallery=gallery_size - num_query,
        dim=args_dict['dim'],
        noise=args_dict['noise'],
        seed=args_dict['seed'])
    q_feats = torch.from_numpy(data['q_feats'])
    g_feats = torch.from_numpy(data['g_feats'])
    rss_features = current_rss_mib()
    peak_before = peak_rss_mib()
    seconds, result = best_time(
        lambda: evaluate_rank_from_features(
            q_feats,
            g_feats,
            data['q_pids'],
            data['g_pids'],
            data['q_camids'],
            data['g_camids'],
            metric=args_dict['distance'],
            chunk_size=args_dict['chunk_size']), args_dict['runs'])
    queue.put(
        dict(
            num_query=num_query,
            num_gallery=int(g_feats.shape[0]),
            dim=args_dict['dim'],
            seconds=seconds,
            rss_after_imports_mib=rss_imports,
            rss_features_ready_mib=rss_features,
            peak_rss_before_eval_mib=peak_before,
            peak_rss_mib=peak_rss_mib(),
            full_distmat_mib=num_query * int(g_feats.shape[0]) * 4 / 2**20,
            features_mib=(q_feats.numel() + g_feats.numel()) * 4 / 2**20,
            result=result))


def _options_child(option: str, args_dict: dict,
                   queue: 'multiprocessing.Queue') -> None:
    """Evaluate with one test-time option in a fresh process (own peak
    RSS): ``'plain'``, ``'re-ranking'``, ``'aqe'`` or ``'aqe+re-ranking'``."""
    if args_dict['torch_threads']:
        torch.set_num_threads(args_dict['torch_threads'])
    data = make_mars_like(args_dict['num_query'], args_dict['num_gallery'],
                          args_dict['dim'], args_dict['noise'],
                          args_dict['seed'])
    labels = (data['q_pids'], data['g_pids'], data['q_camids'],
              data['g_camids'])
    q_feats = torch.from_numpy(data['q_feats'])
    g_feats = torch.from_numpy(data['g_feats'])
    peak_before = peak_rss_mib()
    metric = args_dict['distance']

    def run():
        q, g = q_feats, g_feats
        if 'aqe' in option:
            q, g = average_query_expansion(q, g, k=5, alpha=3.0, times=1)
        if 're-ranking' in option:
            dist = re_ranking_from_features(
                q, g, metric, k1=20, k2=6, lambda_value=0.3)
            return evaluate_rank(dist, *labels)
        return evaluate_rank_from_features(q, g, *labels, metric=metric)

    seconds, result = best_time(run, args_dict['runs'])
    queue.put(
        dict(
            option=option,
            seconds=seconds,
            peak_rss_before_mib=peak_before,
            peak_rss_mib=peak_rss_mib(),
            result=result))


def _options_scenario(args: argparse.Namespace, noise: float) -> dict:
    """Time the test-time options, each in a fresh process; print a table."""
    options = ['plain']
    if args.aqe:
        options.append('aqe')
    if args.re_ranking:
        options.append('re-ranking')
    if args.aqe and args.re_ranking:
        options.append('aqe+re-ranking')
    ctx = multiprocessing.get_context('spawn')
    rows, out = [], []
    for option in options:
        queue = ctx.Queue()
        child = ctx.Process(
            target=_options_child,
            args=(option, dict(vars(args), func=None, noise=noise), queue))
        child.start()
        res = queue.get()
        child.join()
        out.append(res)
        rows.append((option, f'{res["seconds"]:.2f}',
                     f'{res["peak_rss_before_mib"]:.0f}',
                     f'{res["peak_rss_mib"]:.0f}',
                     f'{res["result"]["mAP"]:.2f}',
                     f'{res["result"]["R1"]:.2f}'))
    print(f'\ntest-time options, noise {noise}: {args.num_query} queries x '
          f'{args.num_gallery + args.num_query} gallery, dim {args.dim}, '
          f'{args.distance} distance (re-ranking k1=20, k2=6, lambda=0.3; '
          'AQE k=5, alpha=3)')
    print_table(rows, ('option', f'time (s, best of {args.runs})',
                       'peak RSS before (MiB)', 'peak RSS (MiB)', 'mAP',
                       'R1'))
    return dict(noise=noise, options=out)


def add_metric_args(parser: argparse.ArgumentParser) -> None:
    """Arguments of the ``metric`` sub-benchmark."""
    parser.add_argument('--num-query', type=int, default=MARS_NUM_QUERY)
    parser.add_argument(
        '--num-gallery',
        type=int,
        default=MARS_NUM_GALLERY,
        help='gallery tracklets before the queries are appended '
        '(MARS: 9330, i.e. 11310 with the queries)')
    parser.add_argument('--dim', type=int, default=512)
    parser.add_argument(
        '--noise',
        type=float,
        nargs='+',
        default=[2.1, 50.0],
        help='feature noise (per-dimension std; identity centres have '
        'std 1), one scenario each: 2.1 gives mAP ~80 at dim 512 (a '
        'trained model), 50 nearly random features (an untrained one)')
    parser.add_argument(
        '--distance', default='cosine', choices=['cosine', 'euclidean'])
    parser.add_argument(
        '--runs',
        type=int,
        default=3,
        help='best of N runs of the vectorised code')
    parser.add_argument(
        '--loop-runs',
        type=int,
        default=1,
        help='best of N runs of the per-query loop')
    parser.add_argument(
        '--no-loop', action='store_true', help='skip the per-query loop')
    parser.add_argument('--torch-threads', type=int, default=None)
    parser.add_argument(
        '--chunk-size',
        type=int,
        default=None,
        help='queries per chunk (default: automatic)')
    parser.add_argument(
        '--gallery-size',
        type=int,
        default=None,
        help='also evaluate a gallery of this many tracklets (queries '
        'included), e.g. 100000, with the chunked feature->rank path, in '
        'a fresh process; reports time and peak RSS')
    parser.add_argument(
        '--large-runs',
        type=int,
        default=1,
        help='best of N runs for --gallery-size')
    parser.add_argument(
        '--re-ranking',
        action='store_true',
        help='also time k-reciprocal re-ranking (fresh process each)')
    parser.add_argument(
        '--aqe',
        action='store_true',
        help='also time average query expansion (fresh process each)')
    parser.add_argument(
        '--options-only',
        action='store_true',
        help='with --re-ranking / --aqe: skip the ranking benchmark')
    parser.add_argument('--seed', type=int, default=0)


def _fmt_result(result: dict) -> str:
    return ', '.join(f'{k}={v:.2f}' if isinstance(v, float) else f'{k}={v}'
                     for k, v in result.items())


def _metric_scenario(args: argparse.Namespace, noise: float) -> dict:
    """Time the ranking code on one MARS-scale problem; print a table."""
    data = make_mars_like(args.num_query, args.num_gallery, args.dim, noise,
                          args.seed)
    labels = (data['q_pids'], data['g_pids'], data['q_camids'],
              data['g_camids'])
    q_feats = torch.from_numpy(data['q_feats'])
    g_feats = torch.from_numpy(data['g_feats'])
    num_query, num_gallery = q_feats.shape[0], g_feats.shape[0]
    print(f'\nmetric, noise {noise}: {num_query} queries x {num_gallery} '
          f'gallery tracklets, dim {args.dim}, {args.distance} distance, '
          f'{environment()["cpu_cores"]} cores')

    t_dist, distmat = best_time(
        lambda: compute_distance(q_feats, g_feats, args.distance), args.runs)
    distmat = distmat.numpy()
    t_vec, res_vec = best_time(
        lambda: evaluate_rank(distmat, *labels, chunk_size=args.chunk_size),
        args.runs)
    t_fused, res_fused = best_time(
        lambda: evaluate_rank_from_features(
            q_feats,
            g_feats,
            *labels,
            metric=args.distance,
            chunk_size=args.chunk_size), args.runs)

    timings = [
        ('evaluate_rank (vectorised)', t_vec, res_vec),
        ('evaluate_rank_from_features (distance + rank)', t_fused, res_fused),
    ]
    checks = {}
    if not args.no_loop:
        t_loop, res_loop = best_time(
            lambda: loop_evaluate_rank(distmat, *labels), args.loop_runs)
        timings.append(('per-query NumPy loop', t_loop, res_loop))
        for name, _, res in timings[:-1]:
            diff = max_abs_diff(res, res_loop)
            same_counts = all(res[k] == res_loop[k]
                              for k in ('num_valid_queries',
                                        'num_skipped_queries'))
            checks[name] = dict(
                max_abs_diff=diff, equal=bool(same_counts and diff < 1e-9))
        reference = t_loop
    else:
        reference = t_vec

    rows = [(name, f'{t:.3f}', f'{reference / t:.1f}x')
            for name, t, _ in timings]
    rows.append(('compute_distance (for reference)', f'{t_dist:.3f}', '-'))
    print_table(rows, ('method', 'time (s)',
                       'speed-up vs loop' if not args.no_loop else 'speed-up'))
    print('result: ' + _fmt_result(res_vec))
    for name, check in checks.items():
        print(f'check vs loop [{name}]: equal={check["equal"]} (query '
              'counts identical, max |diff| of the metrics '
              f'{check["max_abs_diff"]:.1e}: float summation order)')
    if checks and not all(c['equal'] for c in checks.values()):
        raise RuntimeError('vectorised and loop results differ')
    return dict(
        noise=noise,
        num_query=num_query,
        num_gallery=num_gallery,
        compute_distance_seconds=t_dist,
        timings=[
            dict(method=name, seconds=t, speedup=reference / t)
            for name, t, _ in timings
        ],
        checks=checks,
        result=res_vec)


def _large_gallery_scenario(args: argparse.Namespace, noise: float) -> dict:
    """Run :func:`_large_gallery_child` in a fresh process; print a table."""
    ctx = multiprocessing.get_context('spawn')
    queue = ctx.Queue()
    child_args = dict(vars(args), func=None, noise=noise, runs=args.large_runs)
    child = ctx.Process(
        target=_large_gallery_child,
        args=(args.gallery_size, child_args, queue))
    child.start()
    large = queue.get()
    child.join()
    large['noise'] = noise
    print(f'\nlarge gallery, noise {noise}: {large["num_query"]} queries x '
          f'{large["num_gallery"]} gallery, dim {large["dim"]} '
          '(evaluate_rank_from_features: chunked distance + rank)')
    print_table([
        (f'time (s, best of {args.large_runs})', f'{large["seconds"]:.3f}'),
        ('RSS after imports (MiB)', f'{large["rss_after_imports_mib"]:.0f}'),
        ('RSS with features ready (MiB)',
         f'{large["rss_features_ready_mib"]:.0f}'),
        ('peak RSS before evaluation (MiB)',
         f'{large["peak_rss_before_eval_mib"]:.0f}'),
        ('peak RSS incl. evaluation (MiB)', f'{large["peak_rss_mib"]:.0f}'),
        ('features (MiB)', f'{large["features_mib"]:.0f}'),
        ('full float32 distmat, never built (MiB)',
         f'{large["full_distmat_mib"]:.0f}'),
    ], ('quantity', 'value'))
    print('result: ' + _fmt_result(large['result']))
    return large


def run_metric(args: argparse.Namespace) -> dict:
    """The ``metric`` sub-benchmark: one scenario per ``--noise`` value."""
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    report = dict(
        benchmark='metric',
        environment=environment(),
        config=dict(
            num_query=args.num_query,
            num_gallery_before_queries=args.num_gallery,
            dim=args.dim,
            distance=args.distance,
            noise=args.noise,
            runs=args.runs,
            loop_runs=args.loop_runs,
            chunk_size=args.chunk_size,
            gallery_size=args.gallery_size,
            large_runs=args.large_runs,
            seed=args.seed),
        scenarios=[] if args.options_only else
        [_metric_scenario(args, noise) for noise in args.noise])
    if args.re_ranking or args.aqe:
        report['test_time_options'] = [
            _options_scenario(args, noise) for noise in args.noise
        ]
    if args.gallery_size:
        report['large_gallery'] = [
            _large_gallery_scenario(args, noise) for noise in args.noise
        ]
    return report
