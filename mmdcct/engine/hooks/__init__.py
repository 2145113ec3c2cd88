from .check_invalid_loss_terms_hook import CheckInvalidLossTermsHook
from .num_classes_check_hook import NumClassesCheckHook

__all__ = ['CheckInvalidLossTermsHook', 'NumClassesCheckHook']
