"""MMEngine evaluators of mmdcct."""
from .multi_dataset_evaluator import MultiDatasetEvaluator

__all__ = ['MultiDatasetEvaluator']
