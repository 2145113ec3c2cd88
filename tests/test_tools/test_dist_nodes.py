"""tools/dist_train.sh with 2 local "nodes" of 1 process each (gloo, CPU):
NNODES=2, NODE_RANK=0/1, MASTER_ADDR=127.0.0.1, started concurrently."""
import os
import os.path as osp
import re
import subprocess

import pytest

from test_train_test_tools import REPO, free_port, write_tiny_config


@pytest.fixture(scope='module')
def tiny_config(tmp_path_factory, synthetic_mars):
    return write_tiny_config(
        tmp_path_factory.mktemp('nodes_cfg'), synthetic_mars['out_dir'],
        synthetic_mars['num_train_ids'])


def test_two_nodes_one_process_each_train_and_evaluate(tiny_config, tmp_path):
    work_dir = str(tmp_path / 'nodes')
    port = str(free_port())
    procs = []
    for node_rank in (0, 1):
        env = dict(
            os.environ,
            PYTHONPATH=REPO,
            OMP_NUM_THREADS='1',
            NNODES='2',
            NODE_RANK=str(node_rank),
            MASTER_ADDR='127.0.0.1',
            PORT=port)
        log = open(tmp_path / f'node{node_rank}.log', 'w')
        procs.append((subprocess.Popen([
            'bash', 'tools/dist_train.sh', tiny_config, '1', '--work-dir',
            work_dir, '--cfg-options', 'train_cfg.max_epochs=1',
            'train_cfg.val_interval=1'
        ],
                                       cwd=REPO,
                                       env=env,
                                       stdout=log,
                                       stderr=subprocess.STDOUT), log))
    logs = []
    for proc, log in procs:
        try:
            proc.wait(timeout=300)
        finally:
            if proc.poll() is None:
                proc.kill()
            log.close()
        logs.append(open(log.name).read())
    for (proc, _), text in zip(procs, logs):
        assert proc.returncode == 0, text[-5000:]
    master = logs[0]
    assert 'Distributed launcher: pytorch' in master
    assert 'Distributed training: True' in master
    assert 'GPU number: 2' in master  # MMEngine's name for the world size
    assert re.search(r'Epoch\(val\) \[1\].*mAP: [\d.]+', master)
    assert osp.isfile(osp.join(work_dir, 'epoch_1.pth'))
