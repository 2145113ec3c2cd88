import pytest
from mmengine.config import Config

from mmdcct.utils import validate_config

REPO_CONFIG = 'configs/dcct/dcct_demo.py'


@pytest.fixture
def cfg():
    return Config.fromfile(REPO_CONFIG)


def test_repo_config_is_valid(cfg):
    validate_config(cfg)


def test_sampler_frames_differ_from_hta(cfg):
    cfg.train_dataloader.dataset.pipeline[0].num_frames = 6
    with pytest.raises(ValueError) as err:
        validate_config(cfg)
    msg = str(err.value)
    assert 'train_dataloader.dataset.pipeline.0' in msg
    assert 'num_frames=6' in msg and 'num_frames=4' in msg


def test_batch_not_divisible_by_instances(cfg):
    cfg.train_dataloader.batch_size = 10
    with pytest.raises(ValueError, match=r'batch_size=10 .*num_instances=4'):
        validate_config(cfg)


# --------------------------------------------------------------- types
def test_batch_size_string_names_key_and_type(cfg):
    cfg.train_dataloader.batch_size = '16'
    with pytest.raises(TypeError) as err:
        validate_config(cfg)
    assert str(err.value) == ("train_dataloader.batch_size must be an int, "
                              "got '16' (str).")


def test_num_frames_string_is_a_type_error_not_4_vs_4(cfg):
    cfg.train_dataloader.dataset.pipeline[0].num_frames = '4'
    with pytest.raises(TypeError) as err:
        validate_config(cfg)
    msg = str(err.value)
    assert 'train_dataloader.dataset.pipeline.0.num_frames must be an int' \
        in msg and "got '4' (str)" in msg


def test_num_instances_and_num_workers_types(cfg):
    bad = cfg.copy()
    bad.train_dataloader.sampler.num_instances = 2.0
    with pytest.raises(TypeError,
                       match=r'train_dataloader.sampler.num_instances must '
                       r'be an int, got 2.0 \(float\)'):
        validate_config(bad)
    cfg.val_dataloader.num_workers = '0'
    with pytest.raises(TypeError, match=r'val_dataloader.num_workers must'):
        validate_config(cfg)


# ------------------------------------------------- misspelled arguments
def test_misspelled_num_frames_is_named_not_the_default(cfg):
    transform = cfg.train_dataloader.dataset.pipeline[0]
    transform.num_frame = transform.pop('num_frames')
    with pytest.raises(ValueError) as err:
        validate_config(cfg)
    msg = str(err.value)
    assert 'train_dataloader.dataset.pipeline.0' in msg
    assert 'has no argument "num_frame"; did you mean "num_frames"?' in msg


def test_missing_num_frames_says_the_default_is_used(cfg):
    cfg.train_dataloader.dataset.pipeline[0].pop('num_frames')
    with pytest.raises(ValueError) as err:
        validate_config(cfg)
    assert 'num_frames=8 (its default; the key is not set)' in str(err.value)


@pytest.mark.parametrize('path,key,suggestion', [
    (('train_dataloader', 'sampler'), 'num_instance', 'num_instances'),
    (('train_dataloader', ), 'num_worker', 'num_workers'),
    (('val_dataloader', 'dataset'), 'data_rot', 'data_root'),
    (('val_dataloader', 'dataset'), 'galery_includes_query',
     'gallery_includes_query'),
])
def test_misspelled_component_argument(cfg, path, key, suggestion):
    node = cfg
    for part in path:
        node = node[part]
    node[key] = node.pop(suggestion, 1)
    with pytest.raises(ValueError) as err:
        validate_config(cfg)
    msg = str(err.value)
    assert '.'.join(path) in msg
    assert f'"{key}"; did you mean "{suggestion}"?' in msg


def test_misspelled_argument_of_a_wrapped_mmcv_transform(cfg):
    pipeline = cfg.train_dataloader.dataset.pipeline
    index = next(i for i, t in enumerate(pipeline)
                 if t.type == 'TrackletBroadcaster')
    pipeline[index].transforms[0].keep_ration = False
    with pytest.raises(ValueError) as err:
        validate_config(cfg)
    msg = str(err.value)
    assert f'train_dataloader.dataset.pipeline.{index}.transforms.0' in msg
    assert 'Resize has no argument "keep_ration"; did you mean ' \
        '"keep_ratio"?' in msg


# ------------------------------------------------------ top-level keys
@pytest.mark.parametrize('typo,intended', [
    ('train_dataloder', 'train_dataloader'),
    ('model_wraper_cfg', 'model_wrapper_cfg'),
    ('val_evalutor', 'val_evaluator'),
    ('default_hoooks', 'default_hooks'),
])
def test_misspelled_top_level_key_is_an_error(cfg, typo, intended):
    cfg[typo] = dict()
    with pytest.raises(ValueError) as err:
        validate_config(cfg)
    msg = str(err.value)
    assert f'Unknown top-level config key "{typo}": did you mean ' \
        f'"{intended}"?' in msg


def test_misspelled_base_variable_warns_and_helpers_pass(cfg):
    cfg['_train_dataloder'] = 1  # "_" marks a deliberate helper
    cfg['cnn_channels'] = 512  # a helper the repo's configs define
    validate_config(cfg)
    cfg['data_rot'] = 'data/x'
    with pytest.warns(UserWarning, match=r'"data_rot" looks like a '
                      r'misspelling of "data_root"'):
        validate_config(cfg)


def test_runner_keys_come_from_mmengine():
    from mmdcct.utils.config_validation import runner_config_keys
    keys = runner_config_keys()
    # from_cfg / __init__ and the runner's own self.cfg.get(...) reads
    assert {'train_dataloader', 'val_evaluator', 'env_cfg',
            'model_wrapper_cfg', 'find_unused_parameters'} <= keys


# -------------------------------------------- too few identities for P
def test_fewer_train_identities_than_p_through_the_train_path(
        tmp_path, synthetic_mars_root, tiny_video_reid_cfg):
    """tools/train.py runs validate_config, then Runner.from_cfg: the
    sampler learns the batch size and names the identity count."""
    from mmengine.runner import Runner
    cfg = Config(
        dict(
            model=tiny_video_reid_cfg(num_classes=6),
            work_dir=str(tmp_path),
            train_dataloader=dict(
                batch_size=16,  # P = 8 > the 6 training identities
                num_workers=0,
                drop_last=True,
                sampler=dict(
                    type='IdentityBalancedSampler', num_instances=2),
                dataset=dict(
                    type='MARS',
                    data_root=synthetic_mars_root,
                    split='train',
                    pipeline=[
                        dict(type='RestrictedRandomSampling', num_frames=2),
                        dict(type='LoadTrackletFrames'),
                        dict(type='PackVideoReIDInputs')
                    ])),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
            param_scheduler=dict(type='MultiStepLR', milestones=[1]),
            train_cfg=dict(by_epoch=True, max_epochs=1),
            default_scope='mmdcct'))
    validate_config(cfg)
    assert cfg.train_dataloader.sampler.batch_size == 16
    runner = Runner.from_cfg(cfg)
    with pytest.raises(ValueError) as err:
        runner.train()
    msg = str(err.value)
    assert 'training set (MARS) has 6 identities' in msg
    assert 'batch_size=16' in msg and 'num_instances=2' in msg
    assert 'P=8' in msg and 'world size 1' in msg
    assert 'at most 12' in msg
