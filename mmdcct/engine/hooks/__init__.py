from .check_invalid_loss_terms_hook import CheckInvalidLossTermsHook

__all__ = ['CheckInvalidLossTermsHook']
