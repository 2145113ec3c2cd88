"""Fixtures of the engine tests."""
import pytest
import torch
from mmengine.runner import CheckpointLoader

from mmdcct.utils import install_safe_checkpoint_loading


@pytest.fixture
def safe_loading():
    """Switch weights-only loading on as tools/train.py does (Runner.resume
    of MMEngine checkpoints needs the allow-list); restore MMEngine's loaders
    and torch's safe globals afterwards (test-only private access)."""
    schemes = dict(CheckpointLoader._schemes)
    safe_globals = torch.serialization.get_safe_globals()
    install_safe_checkpoint_loading()
    yield
    CheckpointLoader._schemes = type(CheckpointLoader._schemes)(schemes)
    torch.serialization.clear_safe_globals()
    torch.serialization.add_safe_globals(safe_globals)
