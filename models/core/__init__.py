"""What every task shares: the one trainer and its callbacks, batches, checkpoints, the predictor,
the train/evaluate workflow, background jobs for the apps, and the task registry."""
