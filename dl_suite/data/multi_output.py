"""Feeding deep-supervision models: the same target for every named output."""

import keras


class SameTargetPerOutput(keras.utils.PyDataset):
    """Wraps a PyDataset of (x, y) so it yields (x, {name: y for each output name})."""

    def __init__(self, dataset, names, **kwargs):
        super().__init__(**kwargs)
        self.dataset = dataset
        self.names = list(names)

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        x, y = self.dataset[index]
        return x, {name: y for name in self.names}

    def on_epoch_end(self):
        self.dataset.on_epoch_end()
