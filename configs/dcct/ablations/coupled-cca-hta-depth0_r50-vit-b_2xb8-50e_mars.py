# Fig. 5, HTA depth 0: no HTA at all, i.e. "+ CCA" of Tab. V (the head has
# no video feature, no 'final' test feature and no LD / FD).
_base_ = ['./coupled-cca_r50-vit-b_2xb8-50e_mars.py']
