"""Training layer: thin LightningModules around the plain models, callbacks, loggers and `fit`."""
