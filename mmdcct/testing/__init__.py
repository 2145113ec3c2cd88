"""Test and demo fixtures: writers of small synthetic datasets in the real
layouts of the supported benchmarks, and equivalence checks between two
builds of one model.

Not imported by the library (``mmdcct.datasets`` reads the datasets these
functions write, but does not depend on them).
"""
from .model_equivalence import (assert_same_features, assert_same_training,
                                build_model, losses_and_grads, tracklet_batch)
from .synthetic_datasets import (make_synthetic_duke_video,
                                 make_synthetic_ilids_vid,
                                 make_synthetic_ls_vid, make_synthetic_mars,
                                 make_synthetic_prid2011, mars_image_name)

__all__ = [
    'make_synthetic_mars', 'mars_image_name', 'make_synthetic_duke_video',
    'make_synthetic_ilids_vid', 'make_synthetic_prid2011',
    'make_synthetic_ls_vid', 'build_model', 'tracklet_batch',
    'losses_and_grads', 'assert_same_features', 'assert_same_training'
]
