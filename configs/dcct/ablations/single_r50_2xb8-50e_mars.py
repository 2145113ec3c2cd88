# Tab. IV / Tab. V "ResNet-50" (and Tab. VI "Backbone", ResNet-50 column):
# the CNN branch alone (last stride 1), video feature TAP(GAP(Fc)), supervised
# per frame through a BN-neck; the paper's SGD recipe on MARS.
# Paper: 82.4 mAP / 89.9 R1, 3.26 GFLOPs, 22.42 M params.
_base_ = [
    '../../_base_/models/single-backbone.py',
    '../../_base_/datasets/mars.py',
    '../../_base_/schedules/sgd_50e.py',
    '../../_base_/default_runtime.py',
]
