"""What every task's data shares: the data root, errors, uploaded files and class folders."""
