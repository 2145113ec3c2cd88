"""Check the classifier width against the training identities."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmdcct.registry import HOOKS


@HOOKS.register_module()
class NumClassesCheckHook(Hook):
    """Fail before the first iteration if the head's ``num_classes`` differs
    from the training set's number of identities (``metainfo['num_pids']``).

    A wrong value either crashes at the first out-of-range label or silently
    wastes classifier rows, so it is reported with both numbers.

    mmpretrain's ``ClassNumCheckHook`` does not fit Re-ID: it compares every
    ``num_classes`` with the number of class names (``dataset.CLASSES``, an
    mmpretrain dataset attribute; Re-ID datasets count identities,
    ``num_pids``, and name none), and it also checks the validation and test
    sets, whose identities are disjoint from the training ones. Only the
    training set is checked here.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        """Compare ``model.head.num_classes`` with the dataset's ids.

        Raises:
            ValueError: Naming both numbers.
        """
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        head = getattr(model, 'head', None)
        num_classes = getattr(head, 'num_classes', None)
        dataset = runner.train_dataloader.dataset
        num_pids = getattr(dataset, 'metainfo', {}).get('num_pids')
        if num_classes is None or num_pids is None:
            return
        if num_classes != num_pids:
            raise ValueError(
                f'model.head.num_classes={num_classes} but the training set '
                f'({type(dataset).__name__}, split "train") has '
                f'num_pids={num_pids} identities; set '
                f'model.head.num_classes={num_pids}.')
